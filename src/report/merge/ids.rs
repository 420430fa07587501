//! Session ids that several shards got, from the fingerprint sets each
//! shard saved in its report (`session_ids`).

/// Session ids seen by more than one shard: for each fingerprint, the
/// shards beyond the first that hold it. Each set is sorted, so a k-way
/// walk finds them without a set of all ids.
pub fn shared_ids(sets: &[&[u64]]) -> u64 {
    let mut at = vec![0usize; sets.len()];
    let mut repeats = 0;
    loop {
        let Some(least) = sets
            .iter()
            .zip(&at)
            .filter_map(|(s, &i)| s.get(i).copied())
            .min()
        else {
            return repeats;
        };
        let mut holders = 0;
        for (s, i) in sets.iter().zip(at.iter_mut()) {
            if s.get(*i) == Some(&least) {
                holders += 1;
                *i += 1;
            }
        }
        repeats += holders - 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_held_by_several_shards_count_once_per_extra_shard() {
        let a: &[u64] = &[1, 2, 3, 10];
        let b: &[u64] = &[3, 4, 10];
        let c: &[u64] = &[3, 5];
        // 3 in three shards (two repeats), 10 in two (one).
        assert_eq!(shared_ids(&[a, b, c]), 3);
        assert_eq!(shared_ids(&[a, &[]]), 0);
        assert_eq!(shared_ids(&[]), 0);
    }
}
