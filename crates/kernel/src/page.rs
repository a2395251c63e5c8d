/// A bounded request for one page of a keyset-paginated list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest<C> {
    /// Return items strictly after this key (the previous page's `next_cursor`).
    pub after: Option<C>,
    pub limit: u32,
}

impl<C> PageRequest<C> {
    pub const DEFAULT_LIMIT: u32 = 50;
    pub const MAX_LIMIT: u32 = 200;

    /// Clamps the limit into `1..=MAX_LIMIT`, so no caller can ask for unbounded work.
    pub fn new(after: Option<C>, limit: Option<u32>) -> Self {
        let limit = limit
            .unwrap_or(Self::DEFAULT_LIMIT)
            .clamp(1, Self::MAX_LIMIT);
        Self { after, limit }
    }
}

/// One page of results and the key to continue from, if there is more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T, C> {
    pub items: Vec<T>,
    pub next_cursor: Option<C>,
}

impl<T, C> Page<T, C> {
    /// Builds a page from up to `limit + 1` fetched rows: the extra row only says "there is more".
    pub fn from_overfetch(mut rows: Vec<T>, limit: u32, cursor_of: impl Fn(&T) -> C) -> Self {
        let has_more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next_cursor = if has_more {
            rows.last().map(cursor_of)
        } else {
            None
        };
        Self {
            items: rows,
            next_cursor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_size_is_bounded() {
        assert_eq!(PageRequest::<u32>::new(None, Some(10_000)).limit, 200);
        assert_eq!(PageRequest::<u32>::new(None, Some(0)).limit, 1);
        assert_eq!(PageRequest::<u32>::new(None, None).limit, 50);
    }

    #[test]
    fn an_overfetched_row_yields_a_cursor_and_is_dropped() {
        let page = Page::from_overfetch(vec![1, 2, 3], 2, |n| *n);
        assert_eq!(page.items, vec![1, 2]);
        assert_eq!(page.next_cursor, Some(2));
        let last = Page::from_overfetch(vec![1, 2], 2, |n| *n);
        assert_eq!(last.next_cursor, None);
    }
}
