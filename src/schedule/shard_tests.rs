//! The shards of a plan together send the whole plan: every request once,
//! at its instant, with its body, whatever the threads of each shard.

use std::time::Duration;

use super::*;
use crate::scenario::Stage;

fn shard(index: u64, count: u64) -> Shard {
    Shard { index, count }
}

/// Every request of an open schedule, as its threads take them:
/// (offset, body, warm-up), sorted.
fn open_requests(plan: &OpenSchedule) -> Vec<(Duration, u64, bool)> {
    let mut all = Vec::new();
    for t in 0..plan.threads.len() as u64 {
        let mut k = 0;
        while let Some(p) = plan.sequence(t, k).and_then(|s| plan.request(s)) {
            all.push((p.offset, p.body, p.warmup));
            k += 1;
        }
    }
    all.sort();
    all
}

fn open_plan(
    rate: &Rate,
    warmup: Option<Duration>,
    stop: StopRule,
    threads: usize,
) -> OpenSchedule {
    OpenSchedule::new(rate, warmup, stop, 16, 1_000, threads)
}

#[test]
fn open_shards_together_send_the_whole_plan_at_its_instants() {
    let stages = Rate::Stages {
        start: 50.0,
        stages: vec![
            Stage {
                duration: Duration::from_secs(1),
                rate: 400.0,
            },
            Stage {
                duration: Duration::from_millis(700),
                rate: 30.0,
            },
        ],
    };
    let by_duration = StopRule {
        duration: Some(Duration::from_millis(1_300)),
        requests: None,
    };
    let by_count = StopRule {
        duration: None,
        requests: Some(317),
    };
    let cases = [
        (Rate::Constant(600.0), None, by_duration),
        (
            Rate::Constant(250.0),
            Some(Duration::from_millis(200)),
            by_duration,
        ),
        (Rate::Constant(1_000.0), None, by_count),
        (stages, None, by_duration),
    ];
    for (rate, warmup, stop) in cases {
        let whole = open_requests(&open_plan(&rate, warmup, stop, 1));
        assert!(whole.len() > 100, "{rate:?}");
        for (count, threads) in [(1, 3), (2, 1), (3, 2), (3, 4), (7, 3)] {
            let mut union: Vec<_> = (0..count)
                .flat_map(|k| {
                    let plan = open_plan(&rate, warmup, stop, threads).sharded(shard(k, count));
                    let mine = open_requests(&plan);
                    for &(_, body, warm) in &mine {
                        let i = if warm {
                            body & !WARMUP_INDEX_BASE
                        } else {
                            body
                        };
                        // Measured body j is plan request W + j; warm-up s is s.
                        let s = if warm {
                            i
                        } else {
                            i + plan.warmup.as_ref().map_or(0, |w| w.requests)
                        };
                        assert_eq!(s % count, k, "shard {k}/{count} took request {s}");
                    }
                    mine
                })
                .collect();
            union.sort();
            assert_eq!(union, whole, "{rate:?} {count} shards × {threads} threads");
        }
    }
}

/// The measured bodies a closed schedule sends, by thread and count.
fn closed_bodies(plan: &ClosedSchedule) -> Vec<u64> {
    (0..plan.threads.len())
        .flat_map(|t| {
            let (base, stride) = plan.body_indices(t);
            (0..plan.threads[t].requests.unwrap()).map(move |k| base + k * stride)
        })
        .collect()
}

#[test]
fn closed_shards_split_workers_and_a_count_into_the_whole_plan() {
    let stop = StopRule {
        duration: None,
        requests: Some(1_001),
    };
    for (concurrency, count, threads) in [(8, 3, 2), (5, 5, 1), (64, 4, 3), (10, 3, 4)] {
        let mut bodies = Vec::new();
        let mut workers = 0;
        for k in 0..count {
            let plan = ClosedSchedule::sharded(concurrency, threads, stop, None, shard(k, count));
            let mine = closed_bodies(&plan);
            assert!(mine.iter().all(|b| b % count == k), "shard {k}/{count}");
            let own: u32 = plan.threads.iter().map(|t| t.workers).sum();
            let expected =
                concurrency / count as u32 + u32::from((k as u32) < concurrency % count as u32);
            assert_eq!(own, expected, "shard {k}/{count} of {concurrency} workers");
            workers += own;
            bodies.extend(mine);
        }
        assert_eq!(workers, concurrency);
        bodies.sort_unstable();
        assert_eq!(
            bodies,
            (0..1_001).collect::<Vec<_>>(),
            "{concurrency}/{count}/{threads}"
        );
    }
}

#[test]
fn closed_shards_by_duration_and_their_warm_up_never_share_a_body() {
    let stop = StopRule {
        duration: Some(Duration::from_secs(1)),
        requests: None,
    };
    let mut seen = std::collections::HashSet::new();
    for k in 0..3 {
        let plan = ClosedSchedule::sharded(6, 2, stop, Some(Duration::from_secs(1)), shard(k, 3));
        for t in 0..plan.threads.len() {
            let (base, stride) = plan.body_indices(t);
            for n in 0..50 {
                assert!(seen.insert(base + n * stride));
                assert!(seen.insert(plan.warmup_index(t, n)));
            }
        }
    }
}
