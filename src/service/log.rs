//! Log lines for a terminal or for journald. On a terminal: tracing's usual format with
//! colours. Under systemd (`$JOURNAL_STREAM` names our stderr) or into a pipe or file: no
//! ANSI colours, no timestamp when journald stamps each line itself, and each line opened by
//! its syslog priority `<3>`…`<7>` (`sd-daemon(3)`), which journald reads as the level.

use std::io::IsTerminal;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::{DefaultFields, Format, Full, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// True when stderr is the journal stream systemd set up (`$JOURNAL_STREAM` = `dev:inode`
/// of stderr; sd-daemon's check).
pub fn stderr_is_journal() -> bool {
    let Some(v) = std::env::var_os("JOURNAL_STREAM") else {
        return false;
    };
    let v = v.to_string_lossy();
    let Some((dev, ino)) = v.split_once(':') else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let Ok(m) = std::fs::metadata("/proc/self/fd/2") {
            return dev.parse() == Ok(m.dev()) && ino.parse() == Ok(m.ino());
        }
    }
    !dev.is_empty() && !ino.is_empty()
}

/// The syslog priority journald reads from a `<N>` prefix.
pub fn priority(level: &Level) -> u8 {
    match *level {
        Level::ERROR => 3,
        Level::WARN => 4,
        Level::INFO => 6,
        _ => 7,
    }
}

/// tracing's full format behind a `<N>` priority prefix.
struct Journal(Format<Full, ()>);

impl<S, N> FormatEvent<S, N> for Journal
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut w: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        write!(w, "<{}>", priority(event.metadata().level()))?;
        self.0.format_event(ctx, w, event)
    }
}

/// Install the global subscriber: `filter` unless `RUST_LOG` says otherwise, on stderr.
pub fn init(filter: &str) {
    let env = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(filter));
    let b = tracing_subscriber::fmt()
        .with_env_filter(env)
        .with_writer(std::io::stderr);
    if stderr_is_journal() {
        b.with_ansi(false)
            .fmt_fields(DefaultFields::new())
            .event_format(Journal(Format::default().without_time().with_ansi(false)))
            .init();
    } else {
        b.with_ansi(std::io::stderr().is_terminal()).init();
    }
}
