//! Pagination: a lazy stream of pages and of items, for cursor, Link-header and offset styles.

use futures::{Stream, StreamExt};

use super::error::Error;
use super::http::{Response, ResponseMeta};

/// A request that can fetch one page and derive the request for the next one.
pub(crate) trait Paginated: Sized + Send + 'static {
    /// One page as decoded.
    type Page: Send + 'static;
    /// One item of a page.
    type Item: Send + 'static;
    /// Fetches this page.
    fn fetch(self) -> futures::future::BoxFuture<'static, Result<Response<Self::Page>, Error>>;
    /// The items of a page.
    fn items(page: Self::Page) -> Vec<Self::Item>;
    /// How many items a page holds.
    fn count(page: &Self::Page) -> usize;
    /// The request for the next page, or `None` on the last page.
    fn next(&self, page: &Response<Self::Page>) -> Option<Self>;
}

/// Every page, fetched lazily, one request at a time.
pub(crate) fn pages<P: Paginated + Clone>(
    first: P,
) -> impl Stream<Item = Result<Response<P::Page>, Error>> + Send {
    futures::stream::unfold(Some(first), |state| async move {
        let request = state?;
        let following = request.clone();
        match request.fetch().await {
            Ok(page) => {
                let next = following.next(&page);
                Some((Ok(page), next))
            }
            Err(e) => Some((Err(e), None)),
        }
    })
}

/// Every item of every page, fetched lazily.
pub(crate) fn items<P: Paginated + Clone>(
    first: P,
) -> impl Stream<Item = Result<P::Item, Error>> + Send {
    pages(first).flat_map(|page| {
        let items: Vec<Result<P::Item, Error>> = match page {
            Ok(page) => P::items(page.data).into_iter().map(Ok).collect(),
            Err(e) => vec![Err(e)],
        };
        futures::stream::iter(items)
    })
}

/// The `rel="next"` target of the Link header, resolved against the page's URL; only links to
/// the same origin are followed (credentials are never sent elsewhere).
pub(crate) fn next_link(meta: &ResponseMeta) -> Option<String> {
    let base = reqwest::Url::parse(&meta.url).ok()?;
    for value in meta.headers.get_all("link") {
        let Ok(value) = value.to_str() else { continue };
        for link in value.split(',') {
            let mut parts = link.split(';');
            let target = parts.next()?.trim();
            let is_next = parts.any(|p| {
                let p = p.trim().to_ascii_lowercase();
                p == "rel=\"next\"" || p == "rel=next"
            });
            if !is_next {
                continue;
            }
            let target = target.strip_prefix('<')?.strip_suffix('>')?;
            let url = base.join(target).ok()?;
            if url.origin() != base.origin() {
                return None;
            }
            return Some(url.to_string());
        }
    }
    None
}

/// The next cursor, unless the page is the last one.
pub(crate) fn next_cursor(cursor: Option<String>, has_more: Option<bool>) -> Option<String> {
    if has_more == Some(false) {
        return None;
    }
    cursor.filter(|c| !c.is_empty())
}

/// The next offset, unless the page is the last one (empty, short, or the total reached).
pub(crate) fn next_offset(
    offset: i64,
    count: usize,
    limit: Option<i64>,
    total: Option<i64>,
) -> Option<i64> {
    let count = i64::try_from(count).ok()?;
    if count == 0 || limit.is_some_and(|l| count < l) {
        return None;
    }
    let next = offset.checked_add(count)?;
    if total.is_some_and(|t| next >= t) {
        return None;
    }
    Some(next)
}

#[cfg(test)]
mod tests {
    use super::super::client::{Client, RequestOptions};
    use super::super::http::Req;
    use super::super::test_server::{respond, serve};
    use super::*;

    #[derive(Clone)]
    struct ListThings {
        client: Client,
        cursor: Option<String>,
        options: RequestOptions,
    }

    #[derive(serde::Deserialize)]
    struct Page {
        data: Vec<i64>,
        next_cursor: Option<String>,
    }

    impl Paginated for ListThings {
        type Page = Page;
        type Item = i64;
        fn fetch(self) -> futures::future::BoxFuture<'static, Result<Response<Page>, Error>> {
            Box::pin(async move {
                let mut req = Req::new("GET", "/things".to_owned());
                req.query(
                    "cursor",
                    super::super::http::Style::Form,
                    true,
                    &self.cursor,
                );
                self.client.send_json(req, &self.options).await
            })
        }
        fn items(page: Page) -> Vec<i64> {
            page.data
        }
        fn count(page: &Page) -> usize {
            page.data.len()
        }
        fn next(&self, page: &Response<Page>) -> Option<Self> {
            let cursor = next_cursor(page.data.next_cursor.clone(), None)?;
            let mut next = self.clone();
            next.cursor = Some(cursor);
            Some(next)
        }
    }

    #[tokio::test]
    async fn cursor_pages_stream_all_items_and_stop() {
        let server = serve(vec![
            respond(200, &[], r#"{"data":[1,2],"next_cursor":"c 2"}"#),
            respond(200, &[], r#"{"data":[3],"next_cursor":null}"#),
        ]);
        let client = Client::builder().base_url(&server.url).build().unwrap();
        let first = ListThings {
            client,
            cursor: None,
            options: RequestOptions::new(),
        };
        let all: Vec<i64> = items(first).map(|r| r.unwrap()).collect().await;
        assert_eq!(all, vec![1, 2, 3]);
        let seen = server.requests();
        assert_eq!(seen[1].target(), "/things?cursor=c%202");
    }

    #[test]
    fn link_and_offset_rules() {
        let mut meta = ResponseMeta {
            status: 200,
            headers: Default::default(),
            attempts: 1,
            url: "http://h/api/runs?limit=2".to_owned(),
        };
        assert_eq!(next_link(&meta), None);
        meta.headers.insert(
            "link",
            r#"</api/runs?cursor=x>; rel="next", <http://h/a>; rel="prev""#
                .parse()
                .unwrap(),
        );
        assert_eq!(
            next_link(&meta).as_deref(),
            Some("http://h/api/runs?cursor=x")
        );
        meta.headers
            .insert("link", r#"<http://evil/x>; rel="next""#.parse().unwrap());
        assert_eq!(next_link(&meta), None);
        assert_eq!(next_offset(0, 2, Some(2), Some(5)), Some(2));
        assert_eq!(next_offset(4, 1, Some(2), None), None);
        assert_eq!(next_offset(2, 2, None, Some(4)), None);
        assert_eq!(next_offset(2, 0, None, None), None);
        assert_eq!(next_cursor(Some("a".into()), Some(false)), None);
        assert_eq!(next_cursor(Some(String::new()), None), None);
    }
}
