//! `[http]`: the timeout and extra headers.

use super::reader::{Reader, Table};
use crate::scenario::raw::{Located, RawHeader, RawHttp};

pub(super) fn read(r: &mut Reader<'_>, t: &mut Table<'_, '_>, raw: &mut RawHttp) {
    if let Some(v) = t.get("timeout") {
        raw.timeout = r.field(v, &t.key_path("timeout"), Reader::duration);
    }
    if let Some(v) = t.get("headers") {
        let path = t.key_path("headers");
        if let Some(headers) = r.table(v, &path) {
            raw.headers_table = Some(r.place(v.span()));
            for (name, value) in headers.entries() {
                let key = format!("{path}.{}", name.get_ref());
                if let Some(text) = r.string(value, &key) {
                    raw.headers.push(RawHeader {
                        name: Located::new(name.get_ref().to_string(), r.place(name.span())),
                        value: Located::new(text, r.place(value.span())),
                    });
                }
            }
        }
    }
}
