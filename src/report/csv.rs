//! The per-second series as CSV (`mcload report RUN.json --csv PATH`), for
//! spreadsheets and notebooks: a header row, then one row per second of
//! the measured part, one column per figure, the same numbers as the JSON
//! report's `intervals` (they are taken from it). RFC 4180: comma-separated,
//! CRLF line ends; no cell needs quoting (numbers, `true`/`false`, and
//! empty where a figure is null: a second with no answer has no latency,
//! one with nothing sent no send lag).

use std::io::{self, Write};

use serde_json::Value;

use super::{RunReport, to_json};

/// The columns, each with where it is in an interval of the JSON report.
pub const COLUMNS: [(&str, &str); 17] = [
    ("t", "/t"),
    ("partial", "/partial"),
    ("started", "/started"),
    ("rate_rps", "/rate_rps"),
    ("status_201", "/status/201"),
    ("status_400", "/status/400"),
    ("status_500", "/status/500"),
    ("status_other", "/status/other"),
    ("errors", "/errors"),
    ("dropped", "/dropped"),
    ("cancelled", "/cancelled"),
    ("latency_p50_ms", "/latency_ms/p50"),
    ("latency_p99_ms", "/latency_ms/p99"),
    ("latency_max_ms", "/latency_ms/max"),
    ("send_lag_p50_ms", "/send_lag_ms/p50"),
    ("send_lag_p99_ms", "/send_lag_ms/p99"),
    ("send_lag_max_ms", "/send_lag_ms/max"),
];

/// Writes the run's per-second series as CSV.
pub fn write_csv(run: &RunReport, out: &mut dyn Write) -> io::Result<()> {
    let json = to_json(run);
    let header: Vec<&str> = COLUMNS.iter().map(|(name, _)| *name).collect();
    write!(out, "{}\r\n", header.join(","))?;
    let empty = Vec::new();
    let intervals = json["intervals"].as_array().unwrap_or(&empty);
    for interval in intervals {
        for (i, (_, pointer)) in COLUMNS.iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            match interval.pointer(pointer) {
                None | Some(Value::Null) => {}
                Some(v) => write!(out, "{v}")?,
            }
        }
        out.write_all(b"\r\n")?;
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Class;
    use crate::metrics::{Counts, Interval};
    use std::time::Duration;

    /// One row per second after the header, every figure in its column,
    /// and an empty cell for a second with no answer.
    #[test]
    fn each_second_is_one_row_with_empty_cells_for_null_figures() {
        let mut answered = Counts::default();
        answered.add(Class::Status(201));
        answered.add(Class::Status(201));
        answered.add(Class::Connect);
        let mut failed = Counts::default();
        failed.add(Class::Timeout);
        let run = RunReport {
            elapsed: Duration::from_millis(1_500),
            intervals: vec![
                Interval {
                    second: 0,
                    started: 3,
                    counts: answered,
                    latency_us: Some((1_500, 2_000, 2_250)),
                    send_lag_us: Some((7, 120, 310)),
                },
                Interval {
                    second: 1,
                    started: 1,
                    counts: failed,
                    latency_us: None,
                    send_lag_us: None,
                },
            ],
            ..RunReport::example()
        };
        let mut out = Vec::new();
        write_csv(&run, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "t,partial,started,rate_rps,status_201,status_400,status_500,status_other,errors,dropped,cancelled,latency_p50_ms,latency_p99_ms,latency_max_ms,send_lag_p50_ms,send_lag_p99_ms,send_lag_max_ms\r\n\
             0,false,3,3,2,0,0,0,1,0,0,1.5,2.0,2.25,0.007,0.12,0.31\r\n\
             1,true,1,1,0,0,0,0,1,0,0,,,,,,\r\n"
        );
    }
}
