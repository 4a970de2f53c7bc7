//! Small deterministic helpers: ids, day numbers, picks, patterns.

use jiff::Timestamp;
use jiff::civil::Date;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::names::{CULTURES, Country, US_AREA_CODES};

const ID_ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// `prefix` followed by 16 random base-32 characters (80 bits).
pub(crate) fn random_id(rng: &mut ChaCha8Rng, prefix: &str) -> String {
    let mut s = String::with_capacity(prefix.len() + 16);
    s.push_str(prefix);
    push_random_id(rng, &mut s);
    s
}

fn push_random_id(rng: &mut ChaCha8Rng, out: &mut String) {
    push_id_bits(rng.random::<u128>(), out);
}

pub(super) fn push_id_bits(mut bits: u128, out: &mut String) {
    for _ in 0..16 {
        out.push(char::from(ID_ALPHABET[(bits & 31) as usize]));
        bits >>= 5;
    }
}

/// Days since 1970-01-01 (proleptic Gregorian).
pub(crate) fn days(d: Date) -> i32 {
    let m = i32::from(d.month());
    let y = i32::from(d.year()) - i32::from(m <= 2);
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i32::from(d.day()) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date `z` days after 1970-01-01.
pub(crate) fn date(z: i32) -> Date {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i32::from(m <= 2);
    let y = i16::try_from(y.clamp(-9999, 9999)).unwrap_or(1970);
    Date::new(y, m as i8, d as i8).unwrap_or(Date::MIN)
}

/// The instant `secs` seconds into day `day` (UTC).
pub(super) fn at(day: i32, secs: i64) -> Timestamp {
    Timestamp::from_second(i64::from(day) * 86_400 + secs).unwrap_or(Timestamp::UNIX_EPOCH)
}

pub(super) fn pick<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

pub(super) fn pick_weighted<'a, T>(
    rng: &mut ChaCha8Rng,
    items: &'a [T],
    weight: impl Fn(&T) -> u32,
) -> &'a T {
    let total: u32 = items.iter().map(&weight).sum();
    let mut r = rng.random_range(0..total.max(1));
    for item in items {
        let w = weight(item);
        if r < w {
            return item;
        }
        r -= w;
    }
    &items[items.len() - 1]
}

/// `min(count, round(n * fraction))`, at least one when `n` is big enough to want one.
pub(super) fn quota(n: usize, fraction: f64, candidates: usize) -> usize {
    let want = ((n as f64) * fraction).round() as usize;
    let want = if n >= 20 { want.max(1) } else { want };
    want.min(candidates)
}

/// Writes `pattern` with `#` → digit and `@` → letter (or area code for phones).
pub(super) fn expand(rng: &mut ChaCha8Rng, pattern: &str, out: &mut String) {
    const LETTERS: &[u8] = b"ABDEFGHJLNPRSTUWXYZ";
    for ch in pattern.chars() {
        match ch {
            '#' => out.push(char::from(b'0' + rng.random_range(0..10u8))),
            '@' => out.push(char::from(*pick(rng, LETTERS))),
            c => out.push(c),
        }
    }
}

pub(super) fn phone(rng: &mut ChaCha8Rng, country: &Country, out: &mut String) {
    if country.code == "US" {
        let area = *pick(rng, US_AREA_CODES);
        out.push_str("+1");
        out.push_str(area);
        expand(rng, "55501##", out);
    } else {
        expand(rng, country.phone, out);
    }
}

pub(super) fn weighted_culture(rng: &mut ChaCha8Rng) -> usize {
    let total: u32 = CULTURES.iter().map(|c| c.weight).sum();
    let mut r = rng.random_range(0..total);
    for (k, c) in CULTURES.iter().enumerate() {
        if r < c.weight {
            return k;
        }
        r -= c.weight;
    }
    0
}
