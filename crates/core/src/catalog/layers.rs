//! The two layers of a catalog table: rows written by hand, which win, over
//! rows generated from AWS's API models. Both the creation table and the
//! tag-event table are layered alike, so finding a row and its compiled
//! paths is written once, here.

use std::sync::OnceLock;

/// What both tables are sorted and searched by: names collide across
/// services (`CreateTable`), so the source is part of the key.
pub trait Keyed {
    /// `(eventSource, eventName)`, the order each layer is sorted in.
    fn key(&self) -> (&'static str, &'static str);
}

/// The row of `table` (one sorted layer) for an event.
pub fn find<T: Keyed>(table: &'static [T], source: &[u8], name: &[u8]) -> Option<&'static T> {
    table
        .binary_search_by(|row| {
            let (s, n) = row.key();
            (s.as_bytes(), n.as_bytes()).cmp(&(source, name))
        })
        .ok()
        .map(|i| &table[i])
}

/// A table's layers and, built on first use, each row's compiled form (`C`):
/// a process that never meets a generated row never compiles that layer.
pub(crate) struct Layers<T: 'static, C: 'static> {
    /// The tables' statics themselves, not their values: a static built
    /// from another's value gets a copy of its rows, and a row of the
    /// original would then be found in neither layer.
    layers: [&'static &'static [T]; 2],
    compiled: [OnceLock<Vec<C>>; 2],
    compile: fn(&T) -> C,
}

impl<T: Keyed, C> Layers<T, C> {
    pub(crate) const fn new(
        hand: &'static &'static [T],
        generated: &'static &'static [T],
        compile: fn(&T) -> C,
    ) -> Self {
        Self {
            layers: [hand, generated],
            compiled: [OnceLock::new(), OnceLock::new()],
            compile,
        }
    }

    /// The hand-written row for an event, else the generated one.
    pub(crate) fn lookup(&self, source: &[u8], name: &[u8]) -> Option<&'static T> {
        self.layers.iter().find_map(|t| find(t, source, name))
    }

    /// Every row, hand-written ones first.
    pub(crate) fn rows(&self) -> impl Iterator<Item = &'static T> + '_ {
        self.layers.iter().flat_map(|t| t.iter())
    }

    /// A row's compiled form, found by the row's address: a scan would cost
    /// each record up to a layer's length on the ingest path. `None` for a
    /// row built outside the table.
    pub(crate) fn compiled(&'static self, row: &T) -> Option<&'static C> {
        let (layer, i) = self.layers.iter().enumerate().find_map(|(layer, t)| {
            let offset = (row as *const T as usize).checked_sub(t.as_ptr() as usize)?;
            let i = offset / std::mem::size_of::<T>();
            t.get(i)
                .filter(|r| std::ptr::eq(*r, row))
                .map(|_| (layer, i))
        })?;
        let all = self.compiled[layer]
            .get_or_init(|| self.layers[layer].iter().map(self.compile).collect());
        all.get(i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone)]
    struct Row(&'static str, &'static str, &'static str);

    impl Keyed for Row {
        fn key(&self) -> (&'static str, &'static str) {
            (self.0, self.1)
        }
    }

    static HAND: &[Row] = &[Row("a", "Create", "hand"), Row("b", "Create", "hand b")];
    static GENERATED: &[Row] = &[
        Row("a", "Create", "generated"),
        Row("c", "Create", "generated c"),
    ];
    static LAYERS: Layers<Row, &'static str> = Layers::new(&HAND, &GENERATED, |r| r.2);

    #[test]
    fn the_hand_row_wins_and_each_row_finds_its_own_compiled_form() {
        assert_eq!(LAYERS.lookup(b"a", b"Create").unwrap().2, "hand");
        assert_eq!(LAYERS.lookup(b"c", b"Create").unwrap().2, "generated c");
        assert!(LAYERS.lookup(b"d", b"Create").is_none());
        for row in LAYERS.rows() {
            assert_eq!(LAYERS.compiled(row), Some(&row.2));
        }
        // A copy of a row is no row of the table.
        assert_eq!(LAYERS.compiled(&HAND[0].clone()), None);
        assert_eq!(LAYERS.rows().count(), 4);
    }
}
