//! Small text documents read whole (the policy): an S3 object or an SSM
//! parameter, with the caller's own credentials.

use crate::clients::Clients;

/// An S3 object's text, read in its bucket's region.
pub async fn object_text(clients: &Clients, bucket: &str, key: &str) -> Result<String, String> {
    let out = clients
        .bucket_s3(bucket)
        .await
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| crate::error::from_sdk(e).to_string())?;
    let bytes = out
        .body
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .into_bytes();
    String::from_utf8(bytes.to_vec()).map_err(|_| "not UTF-8 text".to_string())
}

/// An SSM parameter's value, decrypted (a `SecureString` is fine).
pub async fn parameter(clients: &Clients, name: &str) -> Result<String, String> {
    let out = clients
        .own_ssm()
        .get_parameter()
        .name(name)
        .with_decryption(true)
        .send()
        .await
        .map_err(|e| crate::error::from_sdk(e).to_string())?;
    out.parameter
        .and_then(|p| p.value)
        .ok_or_else(|| "the parameter has no value".to_string())
}
