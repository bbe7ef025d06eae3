//! Bounds on how deep a survey's templates can make the renderer recurse, checked
//! when a survey is validated: at `pds survey check`/`create`, and again every time
//! the server loads a stored survey, so no stored survey renders unless it passed.
//!
//! The Handlebars renderer recurses for every partial it includes (`{{> name}}`),
//! every block (`{{#if}}`) and every subexpression, and it has no depth limit of its
//! own: two templates that include each other overflow the stack and abort the
//! process, whatever the condition around the include. So a survey's templates
//! must form no include cycle, name every partial they include in writing (a name
//! computed from data, `{{> (lookup …)}}`, could pick a cycle at render time), and
//! nest no deeper than the limits below. Within those limits the renderer's depth
//! is bounded by the templates alone, not by anything a respondent sends.
//!
//! This room reads templates; it never renders them.

use std::collections::{BTreeMap, BTreeSet};

use handlebars::template::{Parameter, Template, TemplateElement};
use handlebars::Handlebars;

/// The longest chain of templates including one another (`a` includes `b`
/// includes `c` is a chain of 3).
pub const MAX_INCLUDE_CHAIN: usize = 8;

/// How deeply blocks (`{{#if}}…{{/if}}`), or brackets within one `{{…}}`
/// (subexpressions, array and object literals), may nest in one template.
///
/// With [`MAX_INCLUDE_CHAIN`] this bounds a render to 8 × (16 + 16) nested levels,
/// which a debug build renders within 1 MiB of stack and a release build within
/// 512 KiB (measured with handlebars 6.4); the server renders on threads of 2 MiB.
/// The test `the_deepest_survey_allowed_renders_on_a_small_stack` holds it to that.
pub const MAX_NESTING: usize = 16;

/// Reports in `problems` if `source` (the text of template `name`) nests blocks
/// or brackets deeper than [`MAX_NESTING`]. Read before the Handlebars parser sees
/// the text, since that parser itself recurses on brackets.
pub fn check_nesting(name: &str, source: &str, problems: &mut Vec<String>) {
    let (blocks, brackets) = nesting(source);
    if blocks > MAX_NESTING {
        problems.push(format!(
            "{name}: blocks ({{{{#if}}}}, {{{{#each}}}}, …) nest {blocks} deep; at most {MAX_NESTING} are allowed"
        ));
    }
    if brackets > MAX_NESTING {
        problems.push(format!(
            "{name}: brackets inside {{{{…}}}} nest {brackets} deep; at most {MAX_NESTING} are allowed"
        ));
    }
}

/// The deepest nesting of blocks, and of brackets inside one mustache, in `source`.
/// A rough reading that errs towards counting too deep: comments and raw blocks
/// are skipped, strings inside a mustache are skipped, and an escaped `\{{` still
/// counts when it opens a block but never when it closes one.
fn nesting(source: &str) -> (usize, usize) {
    let b = source.as_bytes();
    let (mut blocks, mut deepest_blocks, mut deepest_brackets) = (0usize, 0usize, 0usize);
    let mut i = 0;
    while let Some(at) = find(b, i, b"{{") {
        let escaped = at > 0 && b[at - 1] == b'\\';
        if b[at..].starts_with(b"{{{{") {
            // A raw block: its text is not parsed, up to the closing `{{{{/…}}}}`.
            i = find(b, at + 4, b"{{{{/")
                .and_then(|close| find(b, close, b"}}}}"))
                .map_or(b.len(), |end| end + 4);
            continue;
        }
        let mut j = at + 2;
        while j < b.len() && matches!(b[j], b'{' | b'~' | b' ') {
            j += 1;
        }
        if b.get(j) == Some(&b'!') {
            let end = if b[j..].starts_with(b"!--") {
                find(b, j, b"--}}").map(|e| e + 4)
            } else {
                find(b, j, b"}}").map(|e| e + 2)
            };
            i = end.unwrap_or(b.len());
            continue;
        }
        match b.get(j) {
            Some(b'#') => blocks += 1,
            Some(b'^') if !matches!(b.get(j + 1), Some(b'}' | b'~' | b' ')) => blocks += 1,
            Some(b'/') if !escaped => blocks = blocks.saturating_sub(1),
            _ => {}
        }
        deepest_blocks = deepest_blocks.max(blocks);
        let (brackets, end) = brackets_in_mustache(b, j);
        deepest_brackets = deepest_brackets.max(brackets);
        i = end;
    }
    (deepest_blocks, deepest_brackets)
}

/// The deepest bracket nesting in the mustache whose content starts at `from`, and
/// where the mustache ends.
fn brackets_in_mustache(b: &[u8], from: usize) -> (usize, usize) {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let mut k = from;
    while k < b.len() {
        match b[k] {
            quote @ (b'"' | b'\'') => {
                k += 1;
                while k < b.len() && b[k] != quote {
                    k += if b[k] == b'\\' { 2 } else { 1 };
                }
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b')' | b']' => depth = depth.saturating_sub(1),
            b'}' if depth > 0 => depth -= 1,
            b'}' => return (deepest, k + 1),
            _ => {}
        }
        k += 1;
    }
    (deepest, b.len())
}

fn find(haystack: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// Reports in `problems` every include cycle, computed partial name, missing
/// partial and include chain longer than [`MAX_INCLUDE_CHAIN`] among the templates
/// of `registry` (whose names are the survey's file names).
pub fn check_includes(registry: &Handlebars<'_>, problems: &mut Vec<String>) {
    let graph = IncludeGraph::read(registry, problems);
    graph.check(problems);
}

/// Who includes whom: template files and inline partials (`{{#*inline "x"}}`),
/// by name. A name is one node whether it is a file, an inline partial or both,
/// so an include is followed to everything it could mean.
#[derive(Default)]
struct IncludeGraph {
    includes: BTreeMap<String, BTreeSet<String>>,
    /// How to name a node in a message: the file, or the inline partial and its file.
    shown: BTreeMap<String, String>,
}

impl IncludeGraph {
    fn read(registry: &Handlebars<'_>, problems: &mut Vec<String>) -> Self {
        let mut graph = IncludeGraph::default();
        let templates: BTreeMap<&String, &Template> = registry.get_templates().iter().collect();
        for name in templates.keys() {
            graph.node(name, name.to_string());
        }
        // Partials a template names only with block content to fall back on
        // (`{{#> x}}fallback{{/x}}`) may be missing; plain `{{> x}}` may not.
        let mut needed: Vec<(String, String)> = Vec::new();
        for (file, template) in &templates {
            // (node, template body) pairs still to read; no recursion, however deep.
            let mut pending: Vec<(String, &Template)> = vec![(file.to_string(), template)];
            while let Some((node, body)) = pending.pop() {
                for element in &body.elements {
                    match element {
                        TemplateElement::PartialExpression(d)
                        | TemplateElement::PartialBlock(d) => {
                            match partial_name(&d.name) {
                                Some(name) if name == "@partial-block" => {}
                                Some(name) => {
                                    if matches!(element, TemplateElement::PartialExpression(_)) {
                                        needed.push((node.clone(), name.clone()));
                                    }
                                    graph.includes.entry(node.clone()).or_default().insert(name);
                                }
                                None => problems.push(format!(
                                    "{}: includes a partial whose name is computed ({{{{> (…)}}}}); write the partial's name out, e.g. {{{{> en/header.html.hbs}}}}",
                                    graph.shown(&node)
                                )),
                            }
                            if let Some(t) = &d.template {
                                pending.push((node.clone(), t));
                            }
                        }
                        TemplateElement::DecoratorBlock(d)
                        | TemplateElement::DecoratorExpression(d) => {
                            let inline = d.name.as_name() == Some("inline");
                            match (&d.template, inline) {
                                (Some(t), true) => match d.params.first().and_then(partial_name) {
                                    Some(name) => {
                                        graph.node(
                                            &name,
                                            format!("inline partial {name:?} in {file}"),
                                        );
                                        pending.push((name, t));
                                    }
                                    None => problems.push(format!(
                                        "{file}: an inline partial's name must be written out, e.g. {{{{#*inline \"row\"}}}}"
                                    )),
                                },
                                (Some(t), false) => pending.push((node.clone(), t)),
                                (None, _) => {}
                            }
                        }
                        TemplateElement::HelperBlock(h) => {
                            for t in h.template.iter().chain(h.inverse.iter()) {
                                pending.push((node.clone(), t));
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
        for (node, name) in needed {
            if !graph.shown.contains_key(&name) {
                problems.push(format!(
                    "{}: includes {name}, which is not a template of this survey (name the file, e.g. en/header.html.hbs, in the same folder as its locale)",
                    graph.shown(&node)
                ));
            }
        }
        graph
    }

    fn node(&mut self, name: &str, shown: String) {
        self.shown.entry(name.to_string()).or_insert(shown);
        self.includes.entry(name.to_string()).or_default();
    }

    fn shown(&self, node: &str) -> String {
        self.shown
            .get(node)
            .cloned()
            .unwrap_or_else(|| node.to_string())
    }

    /// Reports each cycle once, then, if there is none, chains that are too long.
    fn check(&self, problems: &mut Vec<String>) {
        let mut done: BTreeSet<&str> = BTreeSet::new();
        let mut reported: BTreeSet<Vec<&str>> = BTreeSet::new();
        let mut cyclic = false;
        for start in self.includes.keys() {
            // Depth-first, with an explicit stack of (node, its includes not yet followed).
            let mut path: Vec<&str> = vec![start];
            let mut stack = vec![self.next_of(start)];
            while let Some(rest) = stack.last_mut() {
                let Some(next) = rest.pop() else {
                    if let Some(finished) = path.pop() {
                        done.insert(finished);
                    }
                    stack.pop();
                    continue;
                };
                if let Some(at) = path.iter().position(|n| *n == next) {
                    let mut cycle: Vec<&str> = path[at..].to_vec();
                    // The same cycle found from another start: report it once.
                    let mut key = cycle.clone();
                    key.sort_unstable();
                    if reported.insert(key) {
                        cycle.push(next);
                        problems.push(self.cycle_message(&cycle));
                    }
                    cyclic = true;
                    continue;
                }
                if done.contains(next) || !self.includes.contains_key(next) {
                    continue;
                }
                path.push(next);
                stack.push(self.next_of(next));
            }
        }
        if !cyclic {
            self.check_chains(problems);
        }
    }

    fn next_of(&self, node: &str) -> Vec<&str> {
        self.includes
            .get(node)
            .map(|n| n.iter().rev().map(String::as_str).collect())
            .unwrap_or_default()
    }

    fn cycle_message(&self, cycle: &[&str]) -> String {
        let shown: Vec<String> = cycle.iter().map(|n| self.shown(n)).collect();
        if shown.len() == 2 {
            format!(
                "{} includes itself: a template must not include itself, directly or through others",
                shown[0]
            )
        } else {
            format!(
                "{}: these templates include each other in a circle, which would never end; remove one of the includes",
                shown.join(" includes ")
            )
        }
    }

    /// With no cycle, the longest chain starting at each node, longest first.
    fn check_chains(&self, problems: &mut Vec<String>) {
        let mut longest: BTreeMap<&str, (usize, Option<&str>)> = BTreeMap::new();
        // Nodes in an order where every node comes after all it includes.
        let mut order: Vec<&str> = Vec::new();
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        for start in self.includes.keys() {
            let mut stack: Vec<(&str, bool)> = vec![(start, false)];
            while let Some((node, expanded)) = stack.pop() {
                if expanded {
                    order.push(node);
                    continue;
                }
                if !seen.insert(node) {
                    continue;
                }
                stack.push((node, true));
                for next in self.next_of(node) {
                    if self.includes.contains_key(next) && !seen.contains(next) {
                        stack.push((next, false));
                    }
                }
            }
        }
        for node in order {
            let best = self
                .includes
                .get(node)
                .into_iter()
                .flatten()
                .filter_map(|n| longest.get(n.as_str()).map(|(len, _)| (*len, n.as_str())))
                .max();
            longest.insert(node, best.map_or((1, None), |(len, n)| (len + 1, Some(n))));
        }
        if let Some((start, (len, _))) = longest
            .iter()
            .filter(|(_, (len, _))| *len > MAX_INCLUDE_CHAIN)
            .max_by_key(|(_, (len, _))| *len)
        {
            let mut chain = vec![self.shown(start)];
            let mut at = longest.get(start).and_then(|(_, next)| *next);
            while let Some(n) = at {
                chain.push(self.shown(n));
                at = longest.get(n).and_then(|(_, next)| *next);
            }
            problems.push(format!(
                "{}: includes are {len} deep; at most {MAX_INCLUDE_CHAIN} are allowed",
                chain.join(" includes ")
            ));
        }
    }
}

/// A partial's name as written: `{{> en/x.html.hbs}}`, `{{> "en/x.html.hbs"}}`;
/// `None` when it is computed (`{{> (lookup …)}}`).
fn partial_name(name: &Parameter) -> Option<String> {
    match name {
        Parameter::Literal(serde_json::Value::String(s)) => Some(s.clone()),
        Parameter::Subexpression(_) | Parameter::Literal(_) => None,
        other => other.as_name().map(str::to_string),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems_of(files: &[(&str, &str)]) -> Vec<String> {
        let mut hb = Handlebars::new();
        let mut problems = Vec::new();
        for (name, source) in files {
            check_nesting(name, source, &mut problems);
            if problems.is_empty() {
                hb.register_template_string(name, source).unwrap();
            }
        }
        if problems.is_empty() {
            check_includes(&hb, &mut problems);
        }
        problems
    }

    /// Asserts that `files` have exactly one problem, and that it says `says`.
    fn assert_one_problem(files: &[(&str, &str)], says: &str) {
        let problems = problems_of(files);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains(says), "{problems:?}");
    }

    #[test]
    fn templates_that_include_each_other_are_named() {
        assert_one_problem(
            &[
                (
                    "en/a.html.hbs",
                    "{{#if (eq text \"boom\")}}{{> en/b.html.hbs}}{{/if}}",
                ),
                ("en/b.html.hbs", "<p>{{> en/a.html.hbs}}</p>"),
                ("en/form.html.hbs", "{{> en/a.html.hbs}}"),
            ],
            "en/a.html.hbs includes en/b.html.hbs includes en/a.html.hbs",
        );
    }

    #[test]
    fn a_template_including_itself_is_named() {
        assert_one_problem(
            &[("en/a.html.hbs", "{{> en/a.html.hbs}}")],
            "en/a.html.hbs includes itself",
        );
    }

    #[test]
    fn inline_partials_are_followed() {
        assert_one_problem(
            &[(
                "en/form.html.hbs",
                "{{#*inline \"row\"}}{{#each rows}}{{> row}}{{/each}}{{/inline}}{{> row}}",
            )],
            "inline partial \"row\" in en/form.html.hbs includes itself",
        );
    }

    #[test]
    fn a_computed_partial_name_is_refused() {
        assert_one_problem(
            &[
                ("en/a.html.hbs", "{{> (lookup this \"text\")}}"),
                ("en/b.html.hbs", "x"),
            ],
            "computed",
        );
    }

    #[test]
    fn a_missing_partial_is_named() {
        assert_one_problem(
            &[("en/a.html.hbs", "{{> en/nope.html.hbs}}")],
            "en/a.html.hbs: includes en/nope.html.hbs",
        );
        // With block content to fall back on, a missing partial is allowed.
        assert!(problems_of(&[(
            "en/a.html.hbs",
            "{{#> en/nope.html.hbs}}x{{/en/nope.html.hbs}}"
        )])
        .is_empty());
    }

    #[test]
    fn shared_partials_without_a_cycle_are_fine() {
        let problems = problems_of(&[
            ("en/header.html.hbs", "<h1>{{title}}</h1>"),
            ("en/footer.html.hbs", "{{> en/small.html.hbs}}"),
            ("en/small.html.hbs", "<small>x</small>"),
            (
                "en/form.html.hbs",
                "{{> en/header.html.hbs}}{{> en/footer.html.hbs}}",
            ),
            (
                "en/thanks.html.hbs",
                "{{> en/header.html.hbs}}{{#if x}}{{> en/footer.html.hbs}}{{/if}}",
            ),
        ]);
        assert!(problems.is_empty(), "{problems:?}");
    }

    #[test]
    fn a_long_chain_of_includes_is_refused() {
        let names: Vec<String> = (0..=MAX_INCLUDE_CHAIN)
            .map(|i| format!("en/p{i}.html.hbs"))
            .collect();
        let files: Vec<(String, String)> = names
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let body = names
                    .get(i + 1)
                    .map_or("end".to_string(), |next| format!("{{{{> {next}}}}}"));
                (n.clone(), body)
            })
            .collect();
        let refs: Vec<(&str, &str)> = files
            .iter()
            .map(|(n, b)| (n.as_str(), b.as_str()))
            .collect();
        assert_one_problem(&refs, "includes are 9 deep");
        assert!(problems_of(&refs[1..]).is_empty());
    }

    #[test]
    fn deep_nesting_is_refused_before_parsing() {
        let deep_blocks = "{{#if x}}".repeat(10_000) + &"{{/if}}".repeat(10_000);
        let problems = problems_of(&[("en/a.html.hbs", &deep_blocks)]);
        assert!(problems[0].contains("blocks"), "{problems:?}");
        let deep_brackets = format!("{{{{x {}y{}}}}}", "(x ".repeat(10_000), ")".repeat(10_000));
        let problems = problems_of(&[("en/a.html.hbs", &deep_brackets)]);
        assert!(problems[0].contains("brackets"), "{problems:?}");
        let fine = "{{#if a}}{{#each b}}{{x (y (z 1))}}{{/each}}{{/if}}".repeat(100);
        assert!(problems_of(&[("en/a.html.hbs", &fine)]).is_empty());
    }

    #[test]
    fn the_deepest_survey_allowed_renders_on_a_small_stack() {
        // A chain of MAX_INCLUDE_CHAIN templates, each nesting blocks and brackets
        // as deep as allowed, every condition true.
        let files: Vec<(String, String)> = (0..MAX_INCLUDE_CHAIN)
            .map(|i| {
                let inner = if i + 1 < MAX_INCLUDE_CHAIN {
                    format!("{{{{> p{}}}}}", i + 1)
                } else {
                    "deepest".to_string()
                };
                let brackets =
                    "(and true ".repeat(MAX_NESTING - 1) + "x" + &")".repeat(MAX_NESTING - 1);
                let source = format!(
                    "{{{{#if {brackets}}}}}{}{inner}{}",
                    "{{#if x}}".repeat(MAX_NESTING - 1),
                    "{{/if}}".repeat(MAX_NESTING)
                );
                (format!("p{i}"), source)
            })
            .collect();
        let refs: Vec<(&str, &str)> = files
            .iter()
            .map(|(n, b)| (n.as_str(), b.as_str()))
            .collect();
        assert!(problems_of(&refs).is_empty(), "{:?}", problems_of(&refs));
        let mut hb = Handlebars::new();
        hb.set_strict_mode(true);
        for (name, source) in &files {
            hb.register_template_string(name, source).unwrap();
        }
        // Half the stack of a server thread: a margin of two.
        let rendered = std::thread::Builder::new()
            .stack_size(1024 * 1024)
            .spawn(move || hb.render("p0", &serde_json::json!({"x": true})))
            .unwrap()
            .join()
            .expect("rendered without overflowing the stack");
        assert_eq!(rendered.unwrap(), "deepest");

        // One level more of either kind is refused.
        let too_deep = format!(
            "{}{}",
            "{{#if x}}".repeat(MAX_NESTING + 1),
            "{{/if}}".repeat(MAX_NESTING + 1)
        );
        assert_eq!(problems_of(&[("p", &too_deep)]).len(), 1);
    }

    #[test]
    fn closing_tags_in_comments_and_raw_blocks_do_not_hide_nesting() {
        let sneaky =
            "{{#if x}}{{!-- {{/if}} --}}{{{{raw}}}}{{/if}}{{{{/raw}}}}\\{{/if}}".repeat(40);
        let (blocks, _) = nesting(&sneaky);
        assert_eq!(blocks, 40);
    }
}
