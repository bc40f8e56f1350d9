//! go-yaml v2's "natural" map key order (`sorter.go`, `keyList.Less`) for
//! string keys, and a sort that tolerates its inconsistencies.
//!
//! Spec: opm-catalog-render-migrate.md §3.3 "Key order" and
//! go-yaml-json-encoding.md. `keyList.Less` is not a strict weak order when
//! digit runs have leading zeros or overflow int64 (conformance README,
//! "Go's key order is not always deterministic"), so `slice::sort_by` (which
//! may panic on an inconsistent comparator) is not used; a plain merge sort
//! gives one of the orders Go can produce and never panics.

use super::unicode::{is_digit, is_letter};

/// go-yaml `keyList.Less` for two string keys, rune by rune.
pub(super) fn key_less(a: &str, b: &str) -> bool {
    // Fast path for the common all-ASCII case: identical prefixes are skipped
    // byte-wise, which is the same as rune-wise for ASCII.
    if a.is_ascii() && b.is_ascii() {
        return less_runes(a.as_bytes(), b.as_bytes());
    }
    let ar: Vec<char> = a.chars().collect();
    let br: Vec<char> = b.chars().collect();
    less_runes(&ar, &br)
}

trait Rune: Copy + PartialEq {
    fn ch(self) -> char;
}
impl Rune for u8 {
    fn ch(self) -> char {
        self as char
    }
}
impl Rune for char {
    fn ch(self) -> char {
        self
    }
}

fn less_runes<R: Rune>(ar: &[R], br: &[R]) -> bool {
    let n = ar.len().min(br.len());
    for i in 0..n {
        if ar[i] == br[i] {
            continue;
        }
        let (ac, bc) = (ar[i].ch(), br[i].ch());
        let al = is_letter(ac);
        let bl = is_letter(bc);
        if al && bl {
            return ac < bc;
        }
        if al || bl {
            return bl;
        }
        let mut an: i64 = 0;
        let mut bn: i64 = 0;
        // Quirk (sorter.go): when a '0' differs and the digits just before
        // it (in the first key) include a non-zero one, both numbers start
        // from 1, so "a10" vs "a1b" style comparisons keep digit weight.
        if ac == '0' || bc == '0' {
            let mut j = i;
            while j > 0 && is_digit(ar[j - 1].ch()) {
                j -= 1;
                if ar[j].ch() != '0' {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        // Go accumulates `int64(r - '0')` with wrapping int64 arithmetic, for
        // any Unicode digit (not only ASCII ones).
        let mut ai = i;
        while ai < ar.len() && is_digit(ar[ai].ch()) {
            an = an
                .wrapping_mul(10)
                .wrapping_add((ar[ai].ch() as i64) - ('0' as i64));
            ai += 1;
        }
        let mut bi = i;
        while bi < br.len() && is_digit(br[bi].ch()) {
            bn = bn
                .wrapping_mul(10)
                .wrapping_add((br[bi].ch() as i64) - ('0' as i64));
            bi += 1;
        }
        if an != bn {
            return an < bn;
        }
        if ai != bi {
            return ai < bi;
        }
        return ac < bc;
    }
    ar.len() < br.len()
}

/// Stable top-down merge sort by `less`; never panics whatever `less` does.
pub(super) fn merge_sort_by<T: Clone>(v: &mut [T], less: &impl Fn(&T, &T) -> bool) {
    let n = v.len();
    if n <= 1 {
        return;
    }
    if n <= 12 {
        // Insertion sort for small slices (most catalog maps).
        for i in 1..n {
            let mut j = i;
            while j > 0 && less(&v[j], &v[j - 1]) {
                v.swap(j, j - 1);
                j -= 1;
            }
        }
        return;
    }
    let mid = n / 2;
    merge_sort_by(&mut v[..mid], less);
    merge_sort_by(&mut v[mid..], less);
    let left: Vec<T> = v[..mid].to_vec();
    let right: Vec<T> = v[mid..].to_vec();
    let (mut i, mut j, mut k) = (0, 0, 0);
    while i < left.len() && j < right.len() {
        if less(&right[j], &left[i]) {
            v[k] = right[j].clone();
            j += 1;
        } else {
            v[k] = left[i].clone();
            i += 1;
        }
        k += 1;
    }
    while i < left.len() {
        v[k] = left[i].clone();
        i += 1;
        k += 1;
    }
    while j < right.len() {
        v[k] = right[j].clone();
        j += 1;
        k += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order() {
        let want = [
            "_x", "9", "10", "A", "Z", "a", "a.b", "a_b", "a~", "a1b", "a01b", "a001b", "aB", "ab",
            "b", "image1", "image2", "image10", "x-y", "x.y", "x/y", "z",
        ];
        let mut v: Vec<&str> = want.iter().rev().copied().collect();
        merge_sort_by(&mut v, &|a: &&str, b: &&str| key_less(a, b));
        assert_eq!(v, want);
    }
}
