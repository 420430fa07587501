//! The longer `--help` texts of commands whose flags live in `cli.rs`.

pub(super) const SERVE: &str = "Examples:
  mcload serve
  mcload serve --listen 127.0.0.1:9000 --error-rate 0.01 --latency 20ms
  mcload serve --reject-valid 0.01 --accept-invalid 0.1 --bad-location 0.01 --repeat-id 0.01
  mcload serve --latency lognormal:20ms,0.5 --stall 2s/30s
  mcload serve --latency uniform:5ms..50ms --reset-share 0.01 --garbage-share 0.01
  mcload serve --trickle-share 0.05 --close

Answers POST /api/v1/sessions with 201 and a Location, or 400 naming the rule a
body breaks; GET /stats answers its counts as JSON, with the faults it committed
on purpose under \"faults\". The fault flags exist to prove mcload's checks and
to rehearse gates: wrong answers (--reject-valid, --accept-invalid,
--bad-location, --repeat-id, --error-rate), and a misbehaving connection
(--latency, --stall, --reset-share, --garbage-share, --trickle-share, --close).
A reset or garbage answer is a request received (\"requests\") but not answered
(\"faults.reset\", \"faults.garbage\"); the others count under their status too.";

pub(super) const COMPARE: &str = "Examples:
  mcload compare --base base/*.json --cand cand/*.json
  mcload compare --base a1.json a2.json a3.json --cand b1.json b2.json b3.json --tolerance 10%
  mcload compare --base base/*.json --cand cand/*.json --metric latency.p99 --markdown cmp.md
  mcload compare --base base/*.json --cand cand/*.json --json cmp.json --junit cmp.xml
  mcload compare --base base/*.json --cand cand/*.json --html cmp.html

Each report gives one value per metric (the run is the unit of replication).
With at least 3 reports per side, each row is a Welch t-test on the logarithms
of the values, its p-value corrected with Holm-Bonferroni over the table, so the
chance of any false regression is at most --alpha. A row regressed when it is
significantly worse and its ratio is beyond the tolerance; inconclusive when it
is significant, its ratio within the tolerance and its interval reaching beyond
it; `~` otherwise. A check that was 0 in every base run and is not in a
candidate regressed whatever the statistics. With fewer reports, the
tolerance alone judges. A percentile is judged only when every run has 10/(1-q)
answers (1,000 for p99). Metrics: latency.{p50,p90,p95,p99,p999,mean}, the same
under service_time. and send_lag., rate, unexpected, errors, checks.<name>.

Exit codes: 0 no regression · 1 a row regressed (or was inconclusive, with
--fail-on-inconclusive) · 2 a file is not an mcload report, or --strict and the
sides ran different scenarios, targets, models or versions · 4 an output file
could not be written (the table still printed)";
