//! Merging layers: the flags override the file. A value given in `over`
//! replaces the one in `base`, with these rules where settings belong
//! together:
//!
//! - a duration or a request count replaces the base's stop rule as a whole,
//!   so `--requests 100` sends exactly 100 requests whatever duration the
//!   file sets;
//! - a concurrency chooses the closed model, a rate or stages the open one,
//!   whatever the base chose; the closed model drops the base's open-model
//!   bounds, and stages drop the base's duration (stages set the length);
//! - thresholds given by flag add to the file's;
//! - connections raise the base's max_in_flight to at least their number,
//!   unless max_in_flight is given too.

use super::raw::{Field, Located, RawSettings};

/// `base` with `over` laid on top.
pub fn merge(mut base: RawSettings, over: RawSettings) -> RawSettings {
    fn replace<T>(base: &mut Field<T>, over: Field<T>) {
        if over.is_some() {
            *base = over;
        }
    }
    replace(&mut base.name, over.name);
    replace(&mut base.description, over.description);

    let t = over.target;
    replace(&mut base.target.url, t.url);
    replace(&mut base.target.path, t.path);
    replace(&mut base.target.ca_cert, t.ca_cert);
    replace(&mut base.target.insecure, t.insecure);
    replace(&mut base.target.rules, t.rules);

    let (b, o) = (&mut base.load, over.load);
    let closed = o.concurrency.is_some();
    let open = o.rate.is_some() || o.stages.is_some();
    if closed || open {
        b.concurrency = None;
        b.rate = None;
        b.start_rate = None;
        b.stages = None;
        for key in [
            "load.concurrency",
            "load.rate",
            "load.start_rate",
            "load.stages",
        ] {
            base.unreadable.remove(key);
        }
    }
    if closed && !open {
        b.connections = None;
        b.max_in_flight = None;
        base.unreadable.remove("load.connections");
        base.unreadable.remove("load.max_in_flight");
    }
    if o.stages.is_some() {
        b.duration = None;
        base.unreadable.remove("load.duration");
    }
    replace(&mut b.concurrency, o.concurrency);
    replace(&mut b.rate, o.rate);
    replace(&mut b.start_rate, o.start_rate);
    replace(&mut b.stages, o.stages);
    if let Some(c) = &o.connections
        && o.max_in_flight.is_none()
        && let Some(m) = &b.max_in_flight
        && m.value < c.value
    {
        // Room for every connection.
        b.max_in_flight = Some(Located::new(c.value, c.place.clone()));
    }
    replace(&mut b.connections, o.connections);
    replace(&mut b.max_in_flight, o.max_in_flight);
    if o.duration.is_some() || o.requests.is_some() {
        b.duration = o.duration;
        b.requests = o.requests;
        base.unreadable.remove("load.duration");
        base.unreadable.remove("load.requests");
    }
    replace(&mut b.warmup, o.warmup);
    replace(&mut b.threads, o.threads);
    replace(&mut b.grace, o.grace);
    replace(&mut b.pacing, o.pacing);
    replace(&mut b.shard, o.shard);
    replace(&mut b.shards, o.shards);

    replace(&mut base.http.timeout, over.http.timeout);
    if !over.http.headers.is_empty() {
        // A header given again replaces the base's of the same name.
        base.http.headers.retain(|h| {
            !over
                .http
                .headers
                .iter()
                .any(|o| o.name.value.eq_ignore_ascii_case(&h.name.value))
        });
        base.http.headers.extend(over.http.headers);
    }

    replace(&mut base.body.seed, over.body.seed);
    replace(&mut base.body.invalid_share, over.body.invalid_share);
    // Thresholds given by flag apply besides the file's.
    base.thresholds.entries.extend(over.thresholds.entries);
    replace(&mut base.thresholds.defaults, over.thresholds.defaults);
    base.unreadable.extend(over.unreadable);
    base
}
