//! The console's own forms, as pages carry them in their URLs and give them to the server
//! functions: the search form and the restore choice. Everything the API answers is a type
//! of `wizfs-api`; these are what a person filled in, before the server functions turn them
//! into the API's requests.

use serde::{Deserialize, Serialize};

/// The search form, as it appears in the page's URL (`/search?q=…&deleted=true`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SearchForm {
    #[serde(default)]
    pub q: String,
    /// substring, prefix, glob or fuzzy (empty: substring).
    #[serde(default)]
    pub r#match: String,
    #[serde(default)]
    pub dataset: String,
    /// file, directory or symlink (empty: all).
    #[serde(default)]
    pub r#type: String,
    #[serde(default)]
    pub ext: String,
    /// Sizes as people write them: `10M`, `1.5G`, `300k`, `42`.
    #[serde(default)]
    pub min_size: String,
    #[serde(default)]
    pub max_size: String,
    /// Dates as `YYYY-MM-DD` (UTC).
    #[serde(default)]
    pub after: String,
    #[serde(default)]
    pub before: String,
    #[serde(default)]
    pub deleted: bool,
    #[serde(default)]
    pub sort: String,
    #[serde(default)]
    pub page: usize,
}

impl SearchForm {
    /// Hits per page.
    pub const PAGE_SIZE: usize = 50;

    /// The form from a page's query parameters.
    pub fn from_query(get: impl Fn(&str) -> Option<String>) -> Self {
        let text = |key: &str| get(key).unwrap_or_default();
        Self {
            q: text("q"),
            r#match: text("match"),
            dataset: text("dataset"),
            r#type: text("type"),
            ext: text("ext"),
            min_size: text("min_size"),
            max_size: text("max_size"),
            after: text("after"),
            before: text("before"),
            deleted: matches!(get("deleted").as_deref(), Some("true" | "on" | "1")),
            sort: text("sort"),
            page: get("page").and_then(|page| page.parse().ok()).unwrap_or(0),
        }
    }

    /// The page's URL for this form (`/search?q=…`), the inverse of [`Self::from_query`].
    pub fn url(&self) -> String {
        let page = if self.page == 0 {
            String::new()
        } else {
            self.page.to_string()
        };
        let mut url = String::from("/search");
        url.push_str(&crate::format::query(&[
            ("q", &self.q),
            ("match", &self.r#match),
            ("dataset", &self.dataset),
            ("type", &self.r#type),
            ("ext", &self.ext),
            ("min_size", &self.min_size),
            ("max_size", &self.max_size),
            ("after", &self.after),
            ("before", &self.before),
            ("deleted", if self.deleted { "true" } else { "" }),
            ("sort", &self.sort),
            ("page", &page),
        ]));
        url
    }

    /// Whether there is anything to search for.
    pub fn is_empty(&self) -> bool {
        self.q.trim().is_empty()
            && self.dataset.is_empty()
            && self.ext.is_empty()
            && self.min_size.is_empty()
            && self.max_size.is_empty()
            && self.after.is_empty()
            && self.before.is_empty()
            && !self.deleted
    }
}

/// What to restore and where, as the restore panel chose it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RestoreForm {
    pub dataset: String,
    pub snapshot: String,
    /// The console path ([`crate::format::console_path`]).
    pub path: String,
    /// `copy` or `original`.
    pub target: String,
    /// `merge` or `replace` (directories restored over the original); empty for a copy.
    #[serde(default)]
    pub strategy: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_forms_survive_the_url() {
        let form = SearchForm {
            q: "report 2026".into(),
            r#match: "fuzzy".into(),
            dataset: "tank/home".into(),
            r#type: "file".into(),
            ext: "pdf".into(),
            min_size: "10M".into(),
            max_size: String::new(),
            after: "2026-01-01".into(),
            before: String::new(),
            deleted: true,
            sort: "size".into(),
            page: 3,
        };
        let url = form.url();
        let query = url.strip_prefix("/search?").expect("a query");
        let pairs: Vec<(String, String)> = query
            .split('&')
            .map(|pair| {
                let (key, value) = pair.split_once('=').expect("key=value");
                (
                    key.to_owned(),
                    value.replace("%20", " ").replace("%2F", "/"),
                )
            })
            .collect();
        let read = SearchForm::from_query(|key| {
            pairs
                .iter()
                .find(|(name, _)| name == key)
                .map(|(_, value)| value.clone())
        });
        assert_eq!(read, form);
        assert_eq!(SearchForm::default().url(), "/search");
        assert!(SearchForm::default().is_empty());
        assert!(!form.is_empty());
    }
}
