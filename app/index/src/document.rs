//! The search document of one version: the tantivy schema, the trigram tokenizer used for
//! substring search, the lossless escaping of non-UTF-8 path bytes, and the mapping from a
//! catalogue record to a document.

use tantivy::schema::{
    FAST, Facet, FacetOptions, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema,
    TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};
use tantivy::{TantivyDocument, Term};
use wizfs_core::model::Timestamp;
use wizfs_core::paths::RelativePath;

use crate::catalogue::VersionRecord;

/// The name the trigram tokenizer is registered under.
pub(crate) const TRIGRAM_TOKENIZER: &str = "wizfs_trigram";
/// Marks the start and the end of a name in its trigrams, so that names of one or two
/// characters still have one and "starts with" / "ends with" trigrams exist.
pub(crate) const NAME_START: char = '\u{2}';
pub(crate) const NAME_END: char = '\u{3}';
/// The fast-field value of an open version's death.
pub(crate) const OPEN_DEATH: u64 = u64::MAX;

pub(crate) const ID: &str = "id";
pub(crate) const DATASET: &str = "dataset";
pub(crate) const NAME_LOWER: &str = "name_lower";
pub(crate) const EXTENSION: &str = "extension";
pub(crate) const SIZE: &str = "size";
pub(crate) const MODIFIED: &str = "modified";
pub(crate) const BIRTH: &str = "birth";
pub(crate) const DEATH: &str = "death";
pub(crate) const OPEN: &str = "open";
pub(crate) const YEAR: &str = "year";
pub(crate) const PATH_LIVE: &str = "path_live";
pub(crate) const PATH_SORT: &str = "path_sort";

/// The fields of a version document.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Fields {
    /// Version id: indexed (delete by id), fast, stored.
    pub id: Field,
    /// Dataset guid (names live in the catalogue, so a rename touches no document).
    pub dataset: Field,
    /// The path's bytes, stored losslessly.
    pub path: Field,
    /// `/<dataset guid>/<escaped parent directory components>`: a term for each ancestor,
    /// so "strictly below directory D" is one term query.
    pub ancestors: Field,
    /// Lower-cased (lossy UTF-8) name, raw: prefix, glob, fuzzy, exact, sort.
    pub name_lower: Field,
    /// Trigrams of the lower-cased name (with start/end marks) and their positions: a
    /// phrase of consecutive trigrams is an exact substring, prefix or suffix match.
    pub name_ngram: Field,
    pub extension: Field,
    pub kind: Field,
    pub size: Field,
    pub modified: Field,
    pub birth: Field,
    /// `OPEN_DEATH` when open.
    pub death: Field,
    /// Whether the version is open (death `None`): `Some(LIVE_TXG)` and `None` differ.
    pub open: Field,
    pub year: Field,
    pub path_live: Field,
    /// The escaped path, for sorting.
    pub path_sort: Field,
}

pub(crate) fn schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let ngram = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(TRIGRAM_TOKENIZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let fields = Fields {
        id: builder.add_u64_field(ID, INDEXED | FAST | STORED),
        dataset: builder.add_u64_field(DATASET, INDEXED | FAST),
        path: builder.add_bytes_field("path", STORED),
        ancestors: builder.add_facet_field("ancestors", FacetOptions::default()),
        name_lower: builder.add_text_field(NAME_LOWER, STRING | FAST),
        name_ngram: builder.add_text_field("name_ngram", ngram),
        extension: builder.add_text_field(EXTENSION, STRING | FAST),
        kind: builder.add_text_field("kind", STRING),
        size: builder.add_u64_field(SIZE, FAST),
        modified: builder.add_i64_field(MODIFIED, FAST),
        birth: builder.add_u64_field(BIRTH, FAST),
        death: builder.add_u64_field(DEATH, FAST),
        open: builder.add_bool_field(OPEN, INDEXED | FAST),
        year: builder.add_u64_field(YEAR, FAST),
        path_live: builder.add_bool_field(PATH_LIVE, INDEXED | FAST),
        path_sort: builder.add_text_field(PATH_SORT, TextOptions::default().set_fast("raw")),
    };
    (builder.build(), fields)
}

/// `%XX` for `%` and for every byte that is not part of valid UTF-8: lossless and, for
/// UTF-8 names, the identity (but for `%`).
pub(crate) fn escape_bytes(bytes: &[u8]) -> String {
    let mut escaped = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for character in chunk.valid().chars() {
            if character == '%' {
                escaped.push_str("%25");
            } else {
                escaped.push(character);
            }
        }
        for byte in chunk.invalid() {
            escaped.push_str(&format!("%{byte:02X}"));
        }
    }
    escaped
}

/// The facet of the directories strictly above `path`'s entry: `/<dataset>/<component>…`.
pub(crate) fn directory_facet(dataset: u64, directory: &RelativePath) -> Facet {
    Facet::from_path(
        std::iter::once(dataset.to_string()).chain(directory.components().map(escape_bytes)),
    )
}

/// The lower-cased, lossy UTF-8 form of a name used by every name query.
pub(crate) fn lower_name(name: &[u8]) -> String {
    String::from_utf8_lossy(name).to_lowercase()
}

/// The lower-cased extension of a name (`a.tar.GZ` → `gz`); none for `.bashrc` or `a.`.
pub(crate) fn extension(name_lower: &str) -> Option<&str> {
    let dot = name_lower.rfind('.')?;
    let extension = &name_lower[dot + 1..];
    (dot > 0 && !extension.is_empty() && extension.len() <= 32).then_some(extension)
}

/// The UTC year of a modification time (0 before year 0).
pub(crate) fn year(seconds: i64) -> u64 {
    u64::try_from(Timestamp(seconds).to_civil_utc().year).unwrap_or(0)
}

pub(crate) fn id_term(fields: &Fields, id: u64) -> Term {
    Term::from_field_u64(fields.id, id)
}

/// The document of one version; `path_live` says whether any version of its path is live.
pub(crate) fn build(fields: &Fields, record: &VersionRecord, path_live: bool) -> TantivyDocument {
    let version = &record.version;
    let signature = &version.signature;
    let name = lower_name(version.path.file_name().unwrap_or_default());
    let mut document = TantivyDocument::new();
    document.add_u64(fields.id, version.id);
    document.add_u64(fields.dataset, record.dataset);
    document.add_bytes(fields.path, version.path.as_bytes());
    if let Some(parent) = version.path.parent() {
        document.add_facet(fields.ancestors, directory_facet(record.dataset, &parent));
    }
    if let Some(extension) = extension(&name) {
        document.add_text(fields.extension, extension);
    }
    document.add_text(fields.name_ngram, &name);
    document.add_text(fields.name_lower, &name);
    document.add_text(fields.kind, signature.kind.as_str());
    document.add_u64(fields.size, signature.size);
    document.add_i64(fields.modified, signature.modified.seconds);
    document.add_u64(fields.birth, version.birth);
    document.add_u64(fields.death, version.death.unwrap_or(OPEN_DEATH));
    document.add_bool(fields.open, version.death.is_none());
    document.add_u64(fields.year, year(signature.modified.seconds));
    document.add_bool(fields.path_live, path_live);
    document.add_text(fields.path_sort, escape_bytes(version.path.as_bytes()));
    document
}

/// The distinct trigrams of `text` (no start/end marks), in order of first appearance.
pub(crate) fn trigrams(text: &str) -> Vec<String> {
    let characters: Vec<char> = text.chars().collect();
    let mut grams: Vec<String> = Vec::new();
    for window in characters.windows(3) {
        let gram: String = window.iter().collect();
        if !grams.contains(&gram) {
            grams.push(gram);
        }
    }
    grams
}

/// Splits a (lower-cased) name into the trigrams of `START name END`. It does not
/// lower-case: documents and queries are lower-cased before.
#[derive(Clone, Debug, Default)]
pub(crate) struct TrigramTokenizer;

#[derive(Debug)]
pub(crate) struct TrigramStream {
    grams: Vec<(usize, usize, String)>,
    next: usize,
    token: Token,
}

impl Tokenizer for TrigramTokenizer {
    type TokenStream<'a> = TrigramStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> TrigramStream {
        let mut characters: Vec<(usize, char)> = vec![(0, NAME_START)];
        characters.extend(text.char_indices());
        characters.push((text.len(), NAME_END));
        let grams = characters
            .windows(3)
            .map(|window| {
                let end = window[2].0
                    + if window[2].1 == NAME_END {
                        0
                    } else {
                        window[2].1.len_utf8()
                    };
                (
                    window[0].0,
                    end,
                    window.iter().map(|(_, character)| *character).collect(),
                )
            })
            .collect();
        TrigramStream {
            grams,
            next: 0,
            token: Token::default(),
        }
    }
}

impl TokenStream for TrigramStream {
    fn advance(&mut self) -> bool {
        let Some((from, to, text)) = self.grams.get(self.next) else {
            return false;
        };
        self.token.offset_from = *from;
        self.token.offset_to = *to;
        self.token.position = self.next;
        self.token.position_length = 1;
        self.token.text.clear();
        self.token.text.push_str(text);
        self.next += 1;
        true
    }

    fn token(&self) -> &Token {
        &self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.token
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grams(text: &str) -> Vec<String> {
        let mut tokenizer = TrigramTokenizer;
        let mut stream = tokenizer.token_stream(text);
        let mut found = Vec::new();
        while stream.advance() {
            found.push(stream.token().text.clone());
        }
        found
    }

    #[test]
    fn trigram_tokenizer_marks_start_and_end() {
        assert_eq!(grams("ab"), ["\u{2}ab", "ab\u{3}"]);
        assert_eq!(grams("a"), ["\u{2}a\u{3}"]);
        assert_eq!(grams("héllo").len(), 5);
        assert!(grams("").is_empty());
        assert_eq!(trigrams("abcabc"), ["abc", "bca", "cab"]);
    }

    #[test]
    fn escaping_is_lossless_and_readable() {
        assert_eq!(escape_bytes(b"plain name"), "plain name");
        assert_eq!(escape_bytes(b"100%"), "100%25");
        assert_eq!(escape_bytes(b"a\xffb\xc3"), "a%FFb%C3");
        assert_ne!(escape_bytes(b"%FF"), escape_bytes(b"\xff"));
    }

    #[test]
    fn extensions_and_years() {
        assert_eq!(extension("a.tar.gz"), Some("gz"));
        assert_eq!(extension(".bashrc"), None);
        assert_eq!(extension("a."), None);
        assert_eq!(extension("noext"), None);
        assert_eq!(year(0), 1970);
        assert_eq!(year(1_767_225_600), 2026);
    }
}
