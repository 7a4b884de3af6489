//! source bytes → records: a streaming reader for every CloudTrail shape.
//!
//! A CloudTrail log file is one JSON object holding a `Records` array, often
//! hundreds of megabytes once inflated. The reader never holds more than one
//! record (plus a read-ahead chunk): it inflates in chunks, finds each
//! record's end with [`scan`], and hands out the record's bytes together with
//! a few top-level fields, so that callers parse only the records they need.

mod decode;
mod raw;
mod reader;
pub mod scan;

pub use decode::{decoded, decoded_beside, Chunks, Decoded, HEADROOM};
pub use raw::{Position, RawRecord, Shape};
pub use reader::{Item, ReadError, ReadErrorKind, RecordReader, CHUNK, MAX_RECORD_BYTES};

#[cfg(test)]
mod tests {
    use super::scan::HeadKey;
    use super::*;
    use std::io::{self, Read, Write};

    fn collect(bytes: &[u8]) -> Vec<Result<(String, String), String>> {
        let mut r = RecordReader::new(bytes).unwrap();
        let mut out = vec![];
        while let Some(item) = r.next_item() {
            out.push(match item {
                Item::Record(rec) => Ok((
                    rec.position.to_string(),
                    rec.str(HeadKey::EventName).unwrap_or_default().into_owned(),
                )),
                Item::Error(e) => Err(e.to_string()),
            });
        }
        out
    }

    fn gz(bytes: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(vec![], flate2::Compression::fast());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn reads_a_log_file_plain_and_gzipped() {
        let doc = br#" {"Records": [ {"eventName":"A"}, {"eventName":"B"} ] }"#;
        let want = vec![
            Ok(("Records[0]".into(), "A".into())),
            Ok(("Records[1]".into(), "B".into())),
        ];
        assert_eq!(collect(doc), want);
        assert_eq!(collect(&gz(doc)), want);
    }

    #[test]
    fn reads_arrays_and_single_objects() {
        assert_eq!(
            collect(br#"[{"eventName":"A"}]"#),
            vec![Ok(("[0]".into(), "A".into()))]
        );
        assert_eq!(
            collect(br#"{"eventName":"A","Records":1}"#),
            vec![Ok(("$".into(), "A".into()))]
        );
        assert_eq!(collect(b"[]"), vec![]);
        assert_eq!(collect(br#"{"Records":[]}"#), vec![]);
    }

    #[test]
    fn records_split_over_many_chunks_are_whole() {
        let mut doc = b"{\"Records\":[".to_vec();
        let n = 3000;
        for i in 0..n {
            if i > 0 {
                doc.push(b',');
            }
            let pad = "x".repeat(i % 700);
            doc.extend(format!(r#"{{"eventName":"E{i}","p":{{"s":"{pad}"}}}}"#).bytes());
        }
        doc.extend(b"]}");
        let got = collect(&gz(&doc));
        assert_eq!(got.len(), n);
        for (i, r) in got.iter().enumerate() {
            assert_eq!(r.as_ref().unwrap().1, format!("E{i}"));
        }
    }

    #[test]
    fn invalid_record_is_reported_and_the_next_one_read() {
        let doc = br#"{"Records":[{"eventName":"A","userIdentity":{} x},{"eventName":"B"}]}"#;
        let got = collect(doc);
        assert_eq!(got.len(), 2, "{got:?}");
        let err = got[0].as_ref().unwrap_err();
        assert!(err.starts_with("Records[0].userIdentity:"), "{err}");
        assert_eq!(got[1], Ok(("Records[1]".into(), "B".into())));
    }

    #[test]
    fn objects_one_after_another_are_all_read() {
        let doc = b"{\"eventName\":\"A\"}\n{\"eventName\":\"B\"}\n";
        assert_eq!(
            collect(doc),
            vec![Ok(("$".into(), "A".into())), Ok(("#1".into(), "B".into()))]
        );
    }

    #[test]
    fn damage_between_records_loses_only_the_damage() {
        // A stray `}` after a record, a number element, and a `]` inside one.
        let doc = br#"{"Records":[{"eventName":"A"}},{"eventName":"B"},7,{"eventName":"C","x":1]},{"eventName":"D"}]}"#;
        let got = collect(doc);
        let names: Vec<_> = got
            .iter()
            .filter_map(|r| r.as_ref().ok())
            .map(|(_, n)| n.as_str())
            .collect();
        assert_eq!(names, ["A", "B", "D"], "{got:?}");
        // The `]` inside C reports twice: once inside C, once for what follows it.
        assert_eq!(got.iter().filter(|r| r.is_err()).count(), 4, "{got:?}");
    }

    #[test]
    fn small_reads_do_not_rescan_large_records_quadratically() {
        /// Hands out a few bytes per read, like a pipe.
        struct Trickle<'a>(&'a [u8]);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = buf.len().min(self.0.len()).min(4096);
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let big = "z".repeat(4 << 20);
        let doc = format!(r#"{{"Records":[{{"eventName":"A","p":"{big}"}},{{"eventName":"B"}}]}}"#);
        let mut r = RecordReader::new(Trickle(doc.as_bytes())).unwrap();
        let mut names = vec![];
        while let Some(item) = r.next_item() {
            if let Item::Record(rec) = item {
                names.push(rec.str(HeadKey::EventName).unwrap().into_owned());
            }
        }
        assert_eq!(names, ["A", "B"]);
    }

    #[test]
    fn truncated_gzip_keeps_the_records_before_it() {
        let mut doc = b"{\"Records\":[".to_vec();
        for i in 0..2000 {
            doc.extend(format!(r#"{{"eventName":"E{i}","eventID":"{i:0>64}"}},"#).bytes());
        }
        doc.extend(br#"{"eventName":"last"}]}"#);
        let z = gz(&doc);
        let got = collect(&z[..z.len() / 2]);
        let (ok, err): (Vec<_>, Vec<_>) = got.iter().partition(|r| r.is_ok());
        assert!(ok.len() > 100, "only {} records before the cut", ok.len());
        assert_eq!(err.len(), 1, "{err:?}");
        let msg = err[0].as_ref().unwrap_err();
        assert!(msg.starts_with(&format!("Records[{}]", ok.len())), "{msg}");
    }

    #[test]
    fn oversized_record_is_skipped_and_the_next_one_read() {
        let big = "y".repeat(MAX_RECORD_BYTES + 10);
        let doc = format!(
            r#"{{"Records":[{{"eventName":"A","requestParameters":{{"s":"{big}"}}}},{{"eventName":"B"}}]}}"#
        );
        let got = collect(doc.as_bytes());
        assert_eq!(got.len(), 2, "{got:?}");
        let err = got[0].as_ref().unwrap_err();
        assert!(
            err.starts_with("Records[0].requestParameters: record is larger"),
            "{err}"
        );
        assert_eq!(got[1], Ok(("Records[1]".into(), "B".into())));
    }

    #[test]
    fn non_json_and_empty_inputs_are_errors() {
        assert_eq!(
            collect(b"hello"),
            vec![Err("document: not JSON: expected '{' or '['".into())]
        );
        assert_eq!(
            collect(b"  "),
            vec![Err("document: the file is empty".into())]
        );
    }
}
