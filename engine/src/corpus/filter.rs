//! The one grammar that selects corpus cases, on the command line (`--filter`) and in
//! `CORPUS_FILTER` alike: comma-separated terms, `-` excludes, `*` globs, otherwise a substring.
//!
//! A case is selected when no exclusion matches its name and, if there is any inclusion, at
//! least one inclusion does. `streams,-6.2` selects every stream case except Redis 6.2's;
//! `redis-7.0.15/*` selects one build's cases; `-aof-` drops the AOF cases.

/// A parsed filter; the empty filter selects every case.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    include: Vec<String>,
    exclude: Vec<String>,
}

impl Filter {
    /// Parses terms; each argument may hold several, separated by commas. `Err` names an empty
    /// exclusion (`-` alone), the only term that cannot mean anything.
    pub fn parse<S: AsRef<str>>(args: &[S]) -> Result<Filter, String> {
        let mut f = Filter::default();
        for arg in args {
            for term in arg
                .as_ref()
                .split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
            {
                match term.strip_prefix('-') {
                    Some("") => return Err("an empty exclusion \"-\" in the filter".into()),
                    Some(neg) => f.exclude.push(neg.to_owned()),
                    None => f.include.push(term.to_owned()),
                }
            }
        }
        Ok(f)
    }

    /// Reads `CORPUS_FILTER` (unset or empty: every case).
    pub fn from_env() -> Result<Filter, String> {
        match std::env::var("CORPUS_FILTER") {
            Ok(v) => Filter::parse(&[v]).map_err(|e| format!("CORPUS_FILTER: {e}")),
            Err(_) => Ok(Filter::default()),
        }
    }

    /// Whether the filter selects every case.
    pub fn is_empty(&self) -> bool {
        self.include.is_empty() && self.exclude.is_empty()
    }

    /// Whether a case of this name is selected.
    pub fn selects(&self, name: &str) -> bool {
        if self.exclude.iter().any(|p| matches(name, p)) {
            return false;
        }
        self.include.is_empty() || self.include.iter().any(|p| matches(name, p))
    }
}

impl std::fmt::Display for Filter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let terms: Vec<String> = (self.include.iter().cloned())
            .chain(self.exclude.iter().map(|e| format!("-{e}")))
            .collect();
        f.write_str(&terms.join(","))
    }
}

/// A term without `*` matches as a substring; with `*`, the whole name must match the glob.
fn matches(name: &str, pat: &str) -> bool {
    if !pat.contains('*') {
        return name.contains(pat);
    }
    let parts: Vec<&str> = pat.split('*').collect();
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    let Some(mut rest) = name.strip_prefix(first) else {
        return false;
    };
    for p in &parts[1..parts.len() - 1] {
        match rest.find(p) {
            Some(at) => rest = &rest[at + p.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(terms: &[&str], name: &str) -> bool {
        Filter::parse(terms).unwrap().selects(name)
    }

    #[test]
    fn the_same_terms_mean_the_same_thing_as_one_argument_or_many() {
        let one = Filter::parse(&["streams,-6.2"]).unwrap();
        let many = Filter::parse(&["streams", "-6.2"]).unwrap();
        assert_eq!(one, many);
        assert!(one.selects("redis-7.0.15/streams"));
        assert!(!one.selects("redis-6.2.14/streams"));
        assert!(!one.selects("redis-7.0.15/strings"));
    }

    #[test]
    fn globs_match_the_whole_name() {
        assert!(sel(&["redis-7.0.15/*"], "redis-7.0.15/lists"));
        assert!(!sel(&["redis-7.0.15/*"], "hand/redis-7.0.15/lists"));
        assert!(sel(&["*lists"], "redis-7.0.15/lists"));
        assert!(!sel(&["*lists"], "redis-7.0.15/lists-big"));
        assert!(sel(
            &["redis-*/aof-*-multi"],
            "redis-7.0.15/aof-truncated-multi"
        ));
        assert!(!sel(&["a*a"], "a"));
    }

    #[test]
    fn exclusions_win_and_an_empty_filter_selects_all() {
        assert!(sel(&[], "anything"));
        assert!(!sel(&["aof", "-aof-plain"], "redis-7.0.15/aof-plain"));
        assert!(sel(&["-aof-"], "redis-7.0.15/lists"));
        assert!(Filter::parse(&["a,-"]).is_err());
        assert_eq!(Filter::parse(&[" a , -b ,"]).unwrap().to_string(), "a,-b");
    }
}
