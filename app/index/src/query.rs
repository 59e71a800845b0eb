//! From a [`SearchQuery`] to a tantivy query, and the collectors that count facets over the
//! whole result. Name matching never scans the whole term dictionary when it can avoid it:
//! substrings, prefixes and suffixes are exact phrase queries over the positions of the
//! name's trigrams; other globs take their candidates from the trigrams of their literal runs
//! and check them against the real name in one sorted pass over each segment's dictionary.

use std::collections::{HashMap, HashSet};
use std::ops::Bound;
use std::sync::{Arc, Mutex, PoisonError};

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
use tantivy::index::SegmentId;
use tantivy::query::doc_predicate_query::{
    ConstOrVariableSegmentPredicate, DocPredicate, DocPredicateQuery, SegmentDocPredicate,
};
use tantivy::query::{
    AllQuery, AllScorer, BooleanQuery, BoostQuery, ConstScoreQuery, FuzzyTermQuery, Occur,
    PhraseQuery, Query, RangeQuery, RegexQuery, TermQuery, TermSetQuery,
};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocId, Score, Searcher, SegmentOrdinal, SegmentReader, Term};
use wizfs_core::paths::MAXIMUM_COMPONENT_LENGTH;

use crate::document::{self, Fields, NAME_END, NAME_START};
use crate::error::IndexError;
use crate::{NameMatch, SearchQuery};

/// At most this many trigrams of a text are required (evenly spread): more only slow the
/// intersection down, and the predicate checks the whole text anyway.
const MAXIMUM_TRIGRAMS: usize = 12;

/// What the catalogue says about the datasets a query names.
pub(crate) struct DatasetScope {
    /// Guids of `SearchQuery::datasets` (`None`: no such filter).
    pub only: Option<Vec<u64>>,
    /// Guid of the `under` dataset.
    pub under: Option<u64>,
    /// Datasets excluded from searches.
    pub excluded: Vec<u64>,
}

/// A tantivy query, and the glob its candidates must still be checked against.
pub(crate) struct Built {
    pub query: Box<dyn Query>,
    pub verify: Option<Glob>,
}

/// `None`: the query can match nothing (an unknown dataset was named).
pub(crate) fn build(
    fields: &Fields,
    query: &SearchQuery,
    scope: &DatasetScope,
) -> Result<Option<Built>, IndexError> {
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    let mut verify = None;
    let filter = |query: Box<dyn Query>| -> (Occur, Box<dyn Query>) {
        (Occur::Must, Box::new(ConstScoreQuery::new(query, 0.0)))
    };
    if let Some(text) = query
        .text
        .as_deref()
        .map(str::trim)
        .filter(|text| !text.is_empty())
    {
        if text.len() > MAXIMUM_COMPONENT_LENGTH {
            return Err(IndexError::InvalidQuery(format!(
                "the search text is {} bytes long; names are at most {MAXIMUM_COMPONENT_LENGTH}",
                text.len()
            )));
        }
        let (name, glob) = name_clauses(fields, &text.to_lowercase(), query.name_match)?;
        clauses.extend(name);
        verify = glob;
    }
    if let Some(only) = &scope.only {
        if only.is_empty() {
            return Ok(None);
        }
        clauses.push(filter(Box::new(TermSetQuery::new(
            only.iter()
                .map(|guid| Term::from_field_u64(fields.dataset, *guid)),
        ))));
    }
    if let Some((_, directory)) = &query.under {
        let Some(guid) = scope.under else {
            return Ok(None);
        };
        clauses.push(filter(Box::new(TermQuery::new(
            Term::from_facet(
                fields.ancestors,
                &document::directory_facet(guid, directory),
            ),
            IndexRecordOption::Basic,
        ))));
    }
    if !scope.excluded.is_empty() {
        clauses.push((
            Occur::MustNot,
            Box::new(TermSetQuery::new(
                scope
                    .excluded
                    .iter()
                    .map(|guid| Term::from_field_u64(fields.dataset, *guid)),
            )),
        ));
    }
    if !query.kinds.is_empty() {
        clauses.push(filter(Box::new(TermSetQuery::new(
            query
                .kinds
                .iter()
                .map(|kind| Term::from_field_text(fields.kind, kind.as_str())),
        ))));
    }
    if !query.extensions.is_empty() {
        clauses.push(filter(Box::new(TermSetQuery::new(
            query.extensions.iter().map(|extension| {
                Term::from_field_text(
                    fields.extension,
                    &extension.trim_start_matches('.').to_lowercase(),
                )
            }),
        ))));
    }
    if let Some(range) = range(query.size, |value| Term::from_field_u64(fields.size, value)) {
        clauses.push(filter(Box::new(range)));
    }
    if let Some(range) = range(query.modified, |value| {
        Term::from_field_i64(fields.modified, value)
    }) {
        clauses.push(filter(Box::new(range)));
    }
    if query.deleted_only {
        clauses.push(filter(Box::new(TermQuery::new(
            Term::from_field_bool(fields.path_live, false),
            IndexRecordOption::Basic,
        ))));
    }
    if let Some((guid, txg)) = query.as_of {
        clauses.push(filter(Box::new(TermQuery::new(
            Term::from_field_u64(fields.dataset, guid),
            IndexRecordOption::Basic,
        ))));
        clauses.push(filter(Box::new(RangeQuery::new(
            Bound::Unbounded,
            Bound::Included(Term::from_field_u64(fields.birth, txg)),
        ))));
        let still_there: Vec<(Occur, Box<dyn Query>)> = vec![
            (
                Occur::Should,
                Box::new(TermQuery::new(
                    Term::from_field_bool(fields.open, true),
                    IndexRecordOption::Basic,
                )),
            ),
            (
                Occur::Should,
                Box::new(RangeQuery::new(
                    Bound::Excluded(Term::from_field_u64(fields.death, txg)),
                    Bound::Unbounded,
                )),
            ),
        ];
        clauses.push(filter(Box::new(BooleanQuery::new(still_there))));
    }
    if !clauses.iter().any(|(occur, _)| *occur == Occur::Must) {
        clauses.push((Occur::Must, Box::new(AllQuery)));
    }
    Ok(Some(Built {
        query: Box::new(BooleanQuery::new(clauses)),
        verify,
    }))
}

fn range<T: Copy>(bounds: (Option<T>, Option<T>), term: impl Fn(T) -> Term) -> Option<RangeQuery> {
    let lower = bounds
        .0
        .map_or(Bound::Unbounded, |value| Bound::Included(term(value)));
    let upper = bounds
        .1
        .map_or(Bound::Unbounded, |value| Bound::Included(term(value)));
    (bounds.0.is_some() || bounds.1.is_some()).then(|| RangeQuery::new(lower, upper))
}

/// `\x{…}` for everything but ASCII letters and digits: safe in any regex position.
fn regex_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        if character.is_ascii_alphanumeric() {
            escaped.push(character);
        } else {
            escaped.push_str(&format!("\\x{{{:x}}}", u32::from(character)));
        }
    }
    escaped
}

fn regex(pattern: &str, field: tantivy::schema::Field) -> Result<RegexQuery, IndexError> {
    RegexQuery::from_pattern(pattern, field)
        .map_err(|error| IndexError::InvalidQuery(format!("pattern too complex: {error}")))
}

/// Candidates only: every listed trigram somewhere in the name (for complex globs, checked by
/// the predicate afterwards).
fn must_trigrams(fields: &Fields, grams: &[String]) -> Vec<(Occur, Box<dyn Query>)> {
    let picked: Vec<&String> = if grams.len() <= MAXIMUM_TRIGRAMS {
        grams.iter().collect()
    } else {
        (0..MAXIMUM_TRIGRAMS)
            .map(|index| &grams[index * (grams.len() - 1) / (MAXIMUM_TRIGRAMS - 1)])
            .collect()
    };
    picked
        .into_iter()
        .map(|gram| -> (Occur, Box<dyn Query>) {
            (
                Occur::Must,
                Box::new(TermQuery::new(
                    Term::from_field_text(fields.name_ngram, gram),
                    IndexRecordOption::WithFreqs,
                )),
            )
        })
        .collect()
}

/// Exactly the names whose marked form (`START name END`) contains `text` (3 characters or
/// more): its trigrams at consecutive positions. Trigrams every 3 characters plus the last
/// cover the whole text, so the phrase needs no more.
fn contiguous(fields: &Fields, text: &str) -> Box<dyn Query> {
    let characters: Vec<char> = text.chars().collect();
    let last = characters.len() - 3;
    let mut offsets: Vec<usize> = (0..=last).step_by(3).collect();
    if offsets.last() != Some(&last) {
        offsets.push(last);
    }
    let mut terms: Vec<(usize, Term)> = offsets
        .into_iter()
        .map(|offset| {
            let gram: String = characters[offset..offset + 3].iter().collect();
            (offset, Term::from_field_text(fields.name_ngram, &gram))
        })
        .collect();
    if terms.len() == 1 {
        let (_, term) = terms.remove(0);
        Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs))
    } else {
        Box::new(PhraseQuery::new_with_offset(terms))
    }
}

/// Names containing `text` anywhere.
fn substring(fields: &Fields, text: &str) -> Result<Box<dyn Query>, IndexError> {
    if text.chars().count() >= 3 {
        Ok(contiguous(fields, text))
    } else {
        // One or two characters: the union of the trigrams containing them (the dictionary
        // of trigrams is small, unlike that of names).
        Ok(Box::new(regex(
            &format!("(?s).*{}.*", regex_escape(text)),
            fields.name_ngram,
        )?))
    }
}

/// Names starting with `text`.
fn prefix(fields: &Fields, text: &str) -> Result<Box<dyn Query>, IndexError> {
    if text.chars().count() >= 2 {
        Ok(contiguous(fields, &format!("{NAME_START}{text}")))
    } else {
        // One character: the trigrams starting the name with it.
        Ok(Box::new(regex(
            &format!(
                "(?s){}{}.",
                regex_escape(&NAME_START.to_string()),
                regex_escape(text)
            ),
            fields.name_ngram,
        )?))
    }
}

/// Names ending with `text`.
fn suffix(fields: &Fields, text: &str) -> Result<Box<dyn Query>, IndexError> {
    if text.chars().count() >= 2 {
        Ok(contiguous(fields, &format!("{text}{NAME_END}")))
    } else {
        // One character: the trigrams ending the name with it.
        Ok(Box::new(regex(
            &format!(
                "(?s).{}{}",
                regex_escape(text),
                regex_escape(&NAME_END.to_string())
            ),
            fields.name_ngram,
        )?))
    }
}

/// A boost for names equal to the text, so they rank first.
fn exact_bonus(fields: &Fields, text: &str) -> (Occur, Box<dyn Query>) {
    (
        Occur::Should,
        Box::new(BoostQuery::new(
            Box::new(TermQuery::new(
                Term::from_field_text(fields.name_lower, text),
                IndexRecordOption::Basic,
            )),
            4.0,
        )),
    )
}

type Clauses = Vec<(Occur, Box<dyn Query>)>;

/// The clauses matching names, and the glob to check candidates against when the clauses
/// only find candidates.
fn name_clauses(
    fields: &Fields,
    text: &str,
    name_match: NameMatch,
) -> Result<(Clauses, Option<Glob>), IndexError> {
    let mut clauses: Clauses = Vec::new();
    let mut verify = None;
    match name_match {
        NameMatch::Substring => {
            clauses.push((Occur::Must, substring(fields, text)?));
            clauses.push(exact_bonus(fields, text));
        }
        NameMatch::Prefix => {
            clauses.push((Occur::Must, prefix(fields, text)?));
            clauses.push(exact_bonus(fields, text));
        }
        NameMatch::Glob => {
            let pattern = Glob::parse(text);
            let query: Box<dyn Query> = match pattern.shape() {
                GlobShape::Exact(name) => Box::new(TermQuery::new(
                    Term::from_field_text(fields.name_lower, &name),
                    IndexRecordOption::Basic,
                )),
                GlobShape::Prefix(literal) => prefix(fields, &literal)?,
                GlobShape::Suffix(literal) => suffix(fields, &literal)?,
                GlobShape::Substring(literal) => substring(fields, &literal)?,
                GlobShape::Everything => Box::new(AllQuery),
                GlobShape::Other => {
                    let grams = pattern.trigrams();
                    if grams.is_empty() {
                        Box::new(regex(&pattern.to_regex(), fields.name_lower)?)
                    } else {
                        clauses.extend(must_trigrams(fields, &grams));
                        verify = Some(pattern);
                        Box::new(AllQuery)
                    }
                }
            };
            clauses.push((Occur::Must, query));
        }
        NameMatch::Fuzzy => {
            let distance = if text.chars().count() >= 8 { 2 } else { 1 };
            clauses.push((
                Occur::Must,
                Box::new(FuzzyTermQuery::new(
                    Term::from_field_text(fields.name_lower, text),
                    distance,
                    true,
                )),
            ));
            clauses.push(exact_bonus(fields, text));
        }
    }
    Ok((clauses, verify))
}

/// A glob pattern over characters: `*` any run, `?` any one character.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Glob(Vec<GlobToken>);

enum GlobShape {
    Exact(String),
    Prefix(String),
    Suffix(String),
    Substring(String),
    Everything,
    Other,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum GlobToken {
    Literal(char),
    AnyOne,
    AnyRun,
}

impl Glob {
    pub fn parse(pattern: &str) -> Glob {
        let mut tokens = Vec::new();
        for character in pattern.chars() {
            let token = match character {
                '*' => GlobToken::AnyRun,
                '?' => GlobToken::AnyOne,
                literal => GlobToken::Literal(literal),
            };
            if !(token == GlobToken::AnyRun && tokens.last() == Some(&GlobToken::AnyRun)) {
                tokens.push(token);
            }
        }
        Glob(tokens)
    }

    /// Patterns that simpler exact queries answer.
    fn shape(&self) -> GlobShape {
        let literal = |tokens: &[GlobToken]| -> Option<String> {
            tokens
                .iter()
                .map(|token| match token {
                    GlobToken::Literal(character) => Some(*character),
                    _ => None,
                })
                .collect()
        };
        let tokens = self.0.as_slice();
        let starts = tokens.first() == Some(&GlobToken::AnyRun);
        let ends = tokens.len() > 1 && tokens.last() == Some(&GlobToken::AnyRun);
        let inner = &tokens[usize::from(starts)..tokens.len() - usize::from(ends)];
        if tokens == [GlobToken::AnyRun] {
            return GlobShape::Everything;
        }
        match (starts, ends, literal(inner)) {
            (_, _, Some(text)) if text.is_empty() => GlobShape::Other,
            (false, false, Some(text)) => GlobShape::Exact(text),
            (false, true, Some(text)) => GlobShape::Prefix(text),
            (true, false, Some(text)) => GlobShape::Suffix(text),
            (true, true, Some(text)) => GlobShape::Substring(text),
            (_, _, None) => GlobShape::Other,
        }
    }

    /// The trigrams of every literal run, with the start/end marks where the pattern is
    /// anchored there.
    fn trigrams(&self) -> Vec<String> {
        let mut runs: Vec<String> = vec![NAME_START.to_string()];
        for token in &self.0 {
            match token {
                GlobToken::Literal(character) => runs.last_mut().into_iter().for_each(|run| {
                    run.push(*character);
                }),
                _ => runs.push(String::new()),
            }
        }
        if let Some(last) = runs.last_mut() {
            last.push(NAME_END);
        }
        let mut grams: Vec<String> = Vec::new();
        for run in runs {
            for gram in document::trigrams(&run) {
                if !grams.contains(&gram) {
                    grams.push(gram);
                }
            }
        }
        grams
    }

    fn to_regex(&self) -> String {
        let mut regex = String::from("(?s)");
        for token in &self.0 {
            match token {
                GlobToken::Literal(character) => {
                    regex.push_str(&regex_escape(&character.to_string()))
                }
                GlobToken::AnyOne => regex.push('.'),
                GlobToken::AnyRun => regex.push_str(".*"),
            }
        }
        regex
    }

    /// Whether the whole of `text` matches (linear-time backtracking on the last `*`).
    pub fn matches(&self, text: &str) -> bool {
        let characters: Vec<char> = text.chars().collect();
        let tokens = &self.0;
        let (mut token, mut character) = (0, 0);
        let mut last_star: Option<(usize, usize)> = None;
        while character < characters.len() {
            match tokens.get(token) {
                Some(GlobToken::AnyRun) => {
                    last_star = Some((token, character));
                    token += 1;
                }
                Some(GlobToken::AnyOne) => {
                    token += 1;
                    character += 1;
                }
                Some(GlobToken::Literal(literal)) if *literal == characters[character] => {
                    token += 1;
                    character += 1;
                }
                _ => match last_star {
                    Some((star, from)) => {
                        token = star + 1;
                        character = from + 1;
                        last_star = Some((star, from + 1));
                    }
                    None => return false,
                },
            }
        }
        tokens[token..]
            .iter()
            .all(|token| *token == GlobToken::AnyRun)
    }
}

/// Narrows `candidates` to the names matching `glob`, in two passes: collect the name
/// ordinals of every candidate, resolve them in one sorted pass over each segment's
/// dictionary (a dictionary block is read once, not once per candidate), then keep the
/// documents whose ordinal matched.
pub(crate) fn verified(
    searcher: &Searcher,
    candidates: Box<dyn Query>,
    glob: &Glob,
) -> tantivy::Result<Box<dyn Query>> {
    let mut accepted: HashMap<SegmentId, HashSet<u64>> = HashMap::new();
    for (segment, ordinals) in searcher.search(candidates.as_ref(), &OrdinalCollector)? {
        let reader = searcher
            .segment_readers()
            .iter()
            .find(|reader| reader.segment_id() == segment);
        let Some(names) = reader.and_then(|reader| {
            reader
                .fast_fields()
                .str(document::NAME_LOWER)
                .ok()
                .flatten()
        }) else {
            continue;
        };
        let mut index = 0;
        let mut matching = HashSet::new();
        names
            .dictionary()
            .sorted_ords_to_term_cb(&ordinals, |bytes| {
                if let Ok(name) = std::str::from_utf8(bytes)
                    && glob.matches(name)
                {
                    matching.insert(ordinals[index]);
                }
                index += 1;
            })?;
        accepted.insert(segment, matching);
    }
    let filter = OrdinalPredicate {
        accepted: Arc::new(accepted),
    };
    Ok(Box::new(BooleanQuery::new(vec![
        (Occur::Must, candidates),
        (
            Occur::Must,
            Box::new(ConstScoreQuery::new(
                Box::new(DocPredicateQuery::from(filter)),
                0.0,
            )),
        ),
    ])))
}

/// The sorted, distinct name ordinals of the matching documents of each segment.
struct OrdinalCollector;

struct SegmentOrdinalCollector {
    segment: SegmentId,
    names: Option<StrColumn>,
    ordinals: Vec<u64>,
}

impl Collector for OrdinalCollector {
    type Fruit = Vec<(SegmentId, Vec<u64>)>;
    type Child = SegmentOrdinalCollector;

    fn for_segment(
        &self,
        _segment_local_id: SegmentOrdinal,
        segment: &SegmentReader,
    ) -> tantivy::Result<SegmentOrdinalCollector> {
        Ok(SegmentOrdinalCollector {
            segment: segment.segment_id(),
            names: segment.fast_fields().str(document::NAME_LOWER)?,
            ordinals: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(
        &self,
        fruits: Vec<(SegmentId, Vec<u64>)>,
    ) -> tantivy::Result<Vec<(SegmentId, Vec<u64>)>> {
        Ok(fruits)
    }
}

impl SegmentCollector for SegmentOrdinalCollector {
    type Fruit = (SegmentId, Vec<u64>);

    fn collect(&mut self, doc: DocId, _score: Score) {
        if let Some(ordinal) = self
            .names
            .as_ref()
            .and_then(|names| names.term_ords(doc).next())
        {
            self.ordinals.push(ordinal);
        }
    }

    fn harvest(mut self) -> (SegmentId, Vec<u64>) {
        self.ordinals.sort_unstable();
        self.ordinals.dedup();
        (self.segment, self.ordinals)
    }
}

/// Documents whose name ordinal is accepted in their segment.
#[derive(Clone, Debug)]
struct OrdinalPredicate {
    accepted: Arc<HashMap<SegmentId, HashSet<u64>>>,
}

struct SegmentOrdinalPredicate {
    accepted: Arc<HashMap<SegmentId, HashSet<u64>>>,
    segment: SegmentId,
    names: StrColumn,
}

impl DocPredicate for OrdinalPredicate {
    type SegmentDocPredicate = SegmentOrdinalPredicate;

    fn doc_predicate(
        &self,
        segment_reader: &SegmentReader,
    ) -> tantivy::Result<ConstOrVariableSegmentPredicate<SegmentOrdinalPredicate>> {
        let segment = segment_reader.segment_id();
        let names = segment_reader.fast_fields().str(document::NAME_LOWER)?;
        match (names, self.accepted.get(&segment)) {
            (Some(names), Some(accepted)) if !accepted.is_empty() => {
                Ok(ConstOrVariableSegmentPredicate::Variable {
                    predicate: SegmentOrdinalPredicate {
                        accepted: Arc::clone(&self.accepted),
                        segment,
                        names,
                    },
                    necessary_condition: Box::new(AllScorer::new(segment_reader.max_doc())),
                })
            }
            _ => Ok(ConstOrVariableSegmentPredicate::Const(false)),
        }
    }
}

impl SegmentDocPredicate for SegmentOrdinalPredicate {
    fn eval(&mut self, doc: DocId) -> bool {
        let accepted = self.accepted.get(&self.segment);
        self.names
            .term_ords(doc)
            .next()
            .is_some_and(|ordinal| accepted.is_some_and(|set| set.contains(&ordinal)))
    }

    fn cost(&self) -> u64 {
        // Dearer than advancing a posting list: never let it drive an intersection.
        1_000
    }
}

/// Facet counts and the total over every matching document.
#[derive(Clone, Debug, Default)]
pub(crate) struct FacetCounts {
    pub total: u64,
    pub datasets: HashMap<u64, u64>,
    pub extensions: HashMap<String, u64>,
    pub years: HashMap<u64, u64>,
}

/// The fast-field columns a search reads from a segment.
pub(crate) struct Columns {
    pub datasets: Column<u64>,
    pub years: Column<u64>,
    pub extensions: Option<StrColumn>,
    /// Version ids (the catalogue's keys).
    pub ids: Column<u64>,
    pub path_live: Column<bool>,
}

/// [`Columns`] of each segment, opened once: a segment never changes, and opening a column
/// looks its name up in the segment's column directory — for the facets of a console search
/// that was half of tantivy's share of the work (console bench, 2000 files × 10 snapshots).
#[derive(Default)]
pub(crate) struct SegmentColumns {
    opened: Mutex<HashMap<SegmentId, Arc<Columns>>>,
}

impl SegmentColumns {
    /// The columns of `segment`. (The map holds no state a panic could leave half-changed,
    /// so a poisoned lock is used as it is.)
    pub fn of(&self, segment: &SegmentReader) -> tantivy::Result<Arc<Columns>> {
        let id = segment.segment_id();
        let kept = self
            .opened
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&id)
            .cloned();
        if let Some(columns) = kept {
            return Ok(columns);
        }
        let fast = segment.fast_fields();
        let columns = Arc::new(Columns {
            datasets: fast.u64(document::DATASET)?,
            years: fast.u64(document::YEAR)?,
            extensions: fast.str(document::EXTENSION)?,
            ids: fast.u64(document::ID)?,
            path_live: fast.bool(document::PATH_LIVE)?,
        });
        self.opened
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id, columns.clone());
        Ok(columns)
    }

    /// Forgets the segments that `searcher` no longer has (merged away).
    pub fn keep_only(&self, searcher: &Searcher) {
        let mut opened = self.opened.lock().unwrap_or_else(PoisonError::into_inner);
        if opened.len() > searcher.segment_readers().len() {
            let current: HashSet<SegmentId> = searcher
                .segment_readers()
                .iter()
                .map(SegmentReader::segment_id)
                .collect();
            opened.retain(|id, _| current.contains(id));
        }
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.opened
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

/// Counts a search's matches by dataset, extension and year.
#[derive(Clone, Copy)]
pub(crate) struct FacetCollector<'a> {
    pub columns: &'a SegmentColumns,
}

pub(crate) struct FacetSegmentCollector {
    counts: FacetCounts,
    columns: Arc<Columns>,
    extension_counts: Vec<u64>,
}

impl Collector for FacetCollector<'_> {
    type Fruit = FacetCounts;
    type Child = FacetSegmentCollector;

    fn for_segment(
        &self,
        _segment_local_id: SegmentOrdinal,
        segment: &SegmentReader,
    ) -> tantivy::Result<FacetSegmentCollector> {
        let columns = self.columns.of(segment)?;
        let terms = columns
            .extensions
            .as_ref()
            .map_or(0, |column| column.num_terms());
        Ok(FacetSegmentCollector {
            counts: FacetCounts::default(),
            columns,
            extension_counts: vec![0; terms],
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<FacetCounts>) -> tantivy::Result<FacetCounts> {
        let mut merged = FacetCounts::default();
        for fruit in fruits {
            merged.total += fruit.total;
            for (key, count) in fruit.datasets {
                *merged.datasets.entry(key).or_default() += count;
            }
            for (key, count) in fruit.extensions {
                *merged.extensions.entry(key).or_default() += count;
            }
            for (key, count) in fruit.years {
                *merged.years.entry(key).or_default() += count;
            }
        }
        Ok(merged)
    }
}

impl SegmentCollector for FacetSegmentCollector {
    type Fruit = FacetCounts;

    fn collect(&mut self, doc: DocId, _score: Score) {
        self.counts.total += 1;
        if let Some(dataset) = self.columns.datasets.first(doc) {
            *self.counts.datasets.entry(dataset).or_default() += 1;
        }
        if let Some(year) = self.columns.years.first(doc) {
            *self.counts.years.entry(year).or_default() += 1;
        }
        if let Some(extensions) = &self.columns.extensions
            && let Some(ordinal) = extensions.term_ords(doc).next()
            && let Some(count) = usize::try_from(ordinal)
                .ok()
                .and_then(|ordinal| self.extension_counts.get_mut(ordinal))
        {
            *count += 1;
        }
    }

    fn harvest(mut self) -> FacetCounts {
        if let Some(extensions) = &self.columns.extensions {
            let mut buffer = String::new();
            for (ordinal, count) in self.extension_counts.iter().enumerate() {
                buffer.clear();
                if *count > 0
                    && matches!(extensions.ord_to_str(ordinal as u64, &mut buffer), Ok(true))
                {
                    *self.counts.extensions.entry(buffer.clone()).or_default() += count;
                }
            }
        }
        self.counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_matching() {
        let glob = |pattern: &str| Glob::parse(pattern);
        assert!(glob("*.txt").matches("notes.txt"));
        assert!(!glob("*.txt").matches("notes.txt.bak"));
        assert!(glob("a?c").matches("abc"));
        assert!(!glob("a?c").matches("ac"));
        assert!(glob("*a*b*").matches("xxaxxbxx"));
        assert!(glob("**").matches(""));
        assert!(glob("re*port*").matches("report"));
        assert!(glob("*\n*").matches("two\nlines"));
        assert!(!glob("abc").matches("abcd"));
        assert!(glob("é?").matches("éa"));
    }

    #[test]
    fn glob_shapes() {
        let shape = |pattern: &str| Glob::parse(pattern).shape();
        assert!(matches!(shape("a.txt"), GlobShape::Exact(name) if name == "a.txt"));
        assert!(matches!(shape("rep*"), GlobShape::Prefix(text) if text == "rep"));
        assert!(matches!(shape("**.jpg"), GlobShape::Suffix(text) if text == ".jpg"));
        assert!(matches!(shape("*budget*"), GlobShape::Substring(text) if text == "budget"));
        assert!(matches!(shape("*"), GlobShape::Everything));
        assert!(matches!(shape("a*b"), GlobShape::Other));
        assert!(matches!(shape("a?"), GlobShape::Other));
        assert!(matches!(shape("**"), GlobShape::Everything));
    }

    #[test]
    fn glob_trigrams_include_anchors() {
        let grams = Glob::parse("rep*.pdf").trigrams();
        assert!(grams.contains(&format!("{NAME_START}re")));
        assert!(grams.contains(&format!("df{NAME_END}")));
        assert!(grams.contains(&".pd".to_owned()));
        assert!(Glob::parse("*a?b*").trigrams().is_empty());
        assert!(Glob::parse("a*").trigrams().is_empty());
    }

    #[test]
    fn segment_columns_are_opened_once_and_forgotten_when_merged_away() {
        use tantivy::{IndexWriter, TantivyDocument};
        let (schema, fields) = document::schema();
        let index = tantivy::Index::create_in_ram(schema);
        index
            .tokenizers()
            .register(document::TRIGRAM_TOKENIZER, document::TrigramTokenizer);
        let mut writer: IndexWriter<TantivyDocument> =
            index.writer_with_num_threads(1, 15_000_000).unwrap();
        writer.set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
        for (id, extension) in [(1, "txt"), (2, "jpg"), (3, "txt")] {
            let mut document = TantivyDocument::default();
            document.add_u64(fields.id, id);
            document.add_u64(fields.dataset, 7);
            document.add_u64(fields.year, 2026);
            document.add_text(fields.extension, extension);
            document.add_bool(fields.path_live, id != 2);
            writer.add_document(document).unwrap();
            writer.commit().unwrap();
        }
        let reader = index.reader().unwrap();
        let searcher = reader.searcher();
        assert_eq!(searcher.segment_readers().len(), 3);
        let columns = SegmentColumns::default();
        let facets = |searcher: &Searcher| {
            searcher
                .search(&AllQuery, &FacetCollector { columns: &columns })
                .unwrap()
        };
        let counts = facets(&searcher);
        assert_eq!(counts.total, 3);
        assert_eq!(counts.extensions["txt"], 2);
        assert_eq!(counts.datasets[&7], 3);
        assert_eq!(columns.len(), 3);
        // Opened once: the same columns again.
        let first = searcher.segment_reader(0);
        assert!(Arc::ptr_eq(
            &columns.of(first).unwrap(),
            &columns.of(first).unwrap()
        ));
        let ids: Vec<u64> = searcher
            .segment_readers()
            .iter()
            .filter_map(|segment| columns.of(segment).unwrap().ids.first(0))
            .collect();
        assert_eq!(ids.len(), 3);
        let segments = index.searchable_segment_ids().unwrap();
        writer.merge(&segments).wait().unwrap();
        reader.reload().unwrap();
        let merged = reader.searcher();
        assert_eq!(merged.segment_readers().len(), 1);
        assert_eq!(facets(&merged).extensions["jpg"], 1);
        assert_eq!(columns.len(), 4, "the merged segment is new");
        columns.keep_only(&merged);
        assert_eq!(columns.len(), 1, "the merged-away segments are forgotten");
        columns.keep_only(&merged);
        assert_eq!(columns.len(), 1);
    }

    #[test]
    fn regex_escaping() {
        assert_eq!(regex_escape("a.b"), "a\\x{2e}b");
        assert_eq!(regex_escape("Z9"), "Z9");
    }
}
