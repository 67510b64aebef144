//! The dial plan and the toll-fraud policy (docs/contracts/config.md): an ordered list of
//! rules, each a regular expression on the normalised E.164 number (`+14085557442`) with a
//! dial-string template (`$1`, `${name}` name the captures) and a cover-page flag; the first
//! rule that matches wins. The `[policy] deny` patterns are tried first: a denied number is
//! refused (550 5.7.1, abort_cause 5) whatever rule would match. No rule: 550 5.4.4.
//!
//! HylaFAX's `dialrules` and Cisco's dial peers (strip the matched prefix, forward the
//! wildcard digits) both reduce to this.

use regex::Regex;

/// One `[[dialplan]]` rule.
#[derive(Debug, Clone)]
pub struct Rule {
    pub pattern: Regex,
    pub dial: String,
    pub cover_page: bool,
}

/// The dial plan with its deny list.
#[derive(Debug, Clone, Default)]
pub struct Dialplan {
    pub rules: Vec<Rule>,
    pub deny: Vec<Regex>,
}

/// Where a number goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// What the line dials.
    pub dial: String,
    /// A cover page is sent (`cp=yes`).
    pub cover_page: bool,
}

/// Why a number has no route.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    #[error("number {number} denied by policy ('{pattern}')")]
    Denied { number: String, pattern: String },
    #[error("no dial-plan rule matches {0}")]
    NoRule(String),
    #[error("dial-plan rule {rule} maps {number} to an empty or non-dialable string '{dial}'")]
    BadDial {
        rule: usize,
        number: String,
        dial: String,
    },
}

impl RouteError {
    /// The RCPT reply code and enhanced code (docs/contracts/smtp.md, "Refused at RCPT").
    pub fn reply_code(&self) -> (u16, &'static str) {
        match self {
            RouteError::Denied { .. } => (550, "5.7.1"),
            RouteError::NoRule(_) | RouteError::BadDial { .. } => (550, "5.4.4"),
        }
    }
}

impl Dialplan {
    /// Route the normalised number `number` (`+` and digits).
    pub fn route(&self, number: &str) -> Result<Route, RouteError> {
        if let Some(p) = self.deny.iter().find(|p| p.is_match(number)) {
            return Err(RouteError::Denied {
                number: number.into(),
                pattern: p.as_str().into(),
            });
        }
        for (i, rule) in self.rules.iter().enumerate() {
            if let Some(caps) = rule.pattern.captures(number) {
                let mut dial = String::new();
                caps.expand(&rule.dial, &mut dial);
                // A dial string is digits and the DTMF/dialler symbols; anything else is a
                // configuration mistake that must not reach a line.
                let ok = !dial.is_empty()
                    && dial.len() <= 64
                    && dial
                        .chars()
                        .all(|c| c.is_ascii_digit() || "+*#,wWpPABCD".contains(c));
                if !ok {
                    return Err(RouteError::BadDial {
                        rule: i + 1,
                        number: number.into(),
                        dial,
                    });
                }
                return Ok(Route {
                    dial,
                    cover_page: rule.cover_page,
                });
            }
        }
        Err(RouteError::NoRule(number.into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> Dialplan {
        Dialplan {
            rules: vec![
                Rule {
                    pattern: Regex::new(r"^\+1408(555\d{4})$").unwrap(),
                    dial: "$1".into(),
                    cover_page: true,
                },
                Rule {
                    pattern: Regex::new(r"^\+1(\d{10})$").unwrap(),
                    dial: "1$1".into(),
                    cover_page: false,
                },
                Rule {
                    pattern: Regex::new(r"^\+(?<intl>\d+)$").unwrap(),
                    dial: "011${intl}".into(),
                    cover_page: false,
                },
            ],
            deny: vec![
                Regex::new(r"^\+1900").unwrap(),
                Regex::new(r"^\+8[78]").unwrap(),
            ],
        }
    }

    #[test]
    fn first_match_wins_with_captures() {
        let p = plan();
        assert_eq!(
            p.route("+14085557442").unwrap(),
            Route {
                dial: "5557442".into(),
                cover_page: true
            }
        );
        assert_eq!(p.route("+12025550100").unwrap().dial, "12025550100");
        assert_eq!(p.route("+4930123456").unwrap().dial, "0114930123456");
    }

    #[test]
    fn deny_before_rules() {
        let p = plan();
        let e = p.route("+19005550100").unwrap_err();
        assert_eq!(e.reply_code(), (550, "5.7.1"));
        assert_eq!(p.route("+881234").unwrap_err().reply_code(), (550, "5.7.1"));
        let empty = Dialplan::default();
        assert_eq!(
            empty.route("+1").unwrap_err(),
            RouteError::NoRule("+1".into())
        );
    }

    #[test]
    fn a_template_that_leaves_letters_is_refused() {
        let p = Dialplan {
            rules: vec![Rule {
                pattern: Regex::new(r"^\+(\d+)$").unwrap(),
                dial: "x$1".into(),
                cover_page: false,
            }],
            deny: vec![],
        };
        assert!(matches!(p.route("+1"), Err(RouteError::BadDial { .. })));
    }
}
