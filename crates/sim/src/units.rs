//! Parsing and printing of the quantities of a link spec: bit rates,
//! durations and probabilities. Decimal numbers are parsed exactly (no
//! floating point) so that `1.5mbit` is exactly 1 500 000 bit/s.

use core::time::Duration;

/// `digits[.digits]` scaled by `10^scale`, exactly, or why not.
fn parse_scaled(number: &str, scale: u32) -> Result<u64, &'static str> {
    let (int_part, frac_part) = match number.split_once('.') {
        Some((i, f)) => (i, f),
        None => (number, ""),
    };
    if int_part.is_empty() && frac_part.is_empty() {
        return Err("not a number");
    }
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(int_part) || !all_digits(frac_part) {
        return Err("not a number");
    }
    let too_big = "too large";
    let mut value: u64 = 0;
    for b in int_part.bytes() {
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(b - b'0')))
            .ok_or(too_big)?;
    }
    value = value.checked_mul(10u64.pow(scale)).ok_or(too_big)?;
    for (i, b) in frac_part.bytes().enumerate() {
        let digit = u64::from(b - b'0');
        let pos = i as u32 + 1;
        if pos <= scale {
            let add = digit * 10u64.pow(scale - pos);
            value = value.checked_add(add).ok_or(too_big)?;
        } else if digit != 0 {
            return Err("too precise");
        }
    }
    Ok(value)
}

/// Splits `20ms` into (`20`, `ms`).
fn split_unit(s: &str) -> (&str, &str) {
    let at = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    (&s[..at], &s[at..])
}

/// A bit rate in bit/s: a decimal number with an optional unit `bit`,
/// `kbit`/`k`, `mbit`/`m`, `gbit`/`g` (powers of 1000, case-insensitive).
pub(crate) fn parse_rate(s: &str) -> Result<u64, String> {
    let (number, unit) = split_unit(s);
    let scale = match unit.to_ascii_lowercase().as_str() {
        "" | "bit" => 0,
        "k" | "kbit" => 3,
        "m" | "mbit" => 6,
        "g" | "gbit" => 9,
        "bps" | "kbps" | "mbps" | "gbps" => {
            return Err(format!(
                "ambiguous unit `{unit}` (bits or bytes?); use bit, kbit, mbit or gbit"
            ))
        }
        _ => {
            return Err(format!(
                "unknown unit `{unit}`; use bit, kbit, mbit or gbit"
            ))
        }
    };
    let v = parse_scaled(number, scale).map_err(|e| match e {
        "too precise" => "not a whole number of bit/s".to_string(),
        other => other.to_string(),
    })?;
    if v == 0 {
        return Err("must be greater than zero (leave `rate` out for an unlimited link)".into());
    }
    Ok(v)
}

/// The shortest exact form of a bit rate: `100mbit`, `1500kbit`, `7bit`.
pub(crate) fn format_rate(bps: u64) -> String {
    for (div, unit) in [
        (1_000_000_000, "gbit"),
        (1_000_000, "mbit"),
        (1_000, "kbit"),
    ] {
        if bps.is_multiple_of(div) {
            return format!("{}{unit}", bps / div);
        }
    }
    format!("{bps}bit")
}

/// A duration with a unit `us`, `ms` or `s` (a bare `0` is also accepted),
/// to microsecond precision.
pub(crate) fn parse_duration(s: &str) -> Result<Duration, String> {
    let (number, unit) = split_unit(s);
    let scale = match unit.to_ascii_lowercase().as_str() {
        "us" => 0,
        "ms" => 3,
        "s" => 6,
        "" => {
            return match parse_scaled(number, 0) {
                Ok(0) => Ok(Duration::ZERO),
                Ok(_) | Err("too precise") => Err("missing unit (us, ms or s)".into()),
                Err(e) => Err(e.into()),
            }
        }
        _ => return Err(format!("unknown unit `{unit}`; use us, ms or s")),
    };
    let micros = parse_scaled(number, scale).map_err(|e| match e {
        "too precise" => "finer than the 1us resolution".to_string(),
        other => other.to_string(),
    })?;
    Ok(Duration::from_micros(micros))
}

/// The shortest exact form of a duration (microsecond resolution): `20ms`,
/// `1500us`, `2s`, `0`.
pub(crate) fn format_duration(d: Duration) -> String {
    let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
    if us == 0 {
        return "0".into();
    }
    for (div, unit) in [(1_000_000, "s"), (1_000, "ms")] {
        if us % div == 0 {
            return format!("{}{unit}", us / div);
        }
    }
    format!("{us}us")
}

/// A probability: a finite number in `[0, 1]`.
pub(crate) fn parse_probability(s: &str) -> Result<f64, String> {
    let p: f64 = s
        .parse()
        .map_err(|_| "not a number (a probability between 0 and 1)".to_string())?;
    if !(0.0..=1.0).contains(&p) {
        return Err("must be between 0 and 1".into());
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaled_decimals_are_exact() {
        assert_eq!(parse_scaled("1.5", 6), Ok(1_500_000));
        assert_eq!(parse_scaled("0.000001", 6), Ok(1));
        assert_eq!(parse_scaled("3.10", 1), Ok(31));
        assert_eq!(parse_scaled(".5", 1), Ok(5));
        assert_eq!(parse_scaled("5.", 0), Ok(5));
        assert_eq!(parse_scaled("0.15", 1), Err("too precise"));
        assert_eq!(parse_scaled("", 1), Err("not a number"));
        assert_eq!(parse_scaled(".", 1), Err("not a number"));
        assert_eq!(parse_scaled("1.2.3", 1), Err("not a number"));
        assert_eq!(parse_scaled("99999999999999999999", 0), Err("too large"));
        assert_eq!(parse_scaled("18446744073709552", 3), Err("too large"));
    }

    #[test]
    fn rates() {
        assert_eq!(parse_rate("100mbit"), Ok(100_000_000));
        assert_eq!(parse_rate("100M"), Ok(100_000_000));
        assert_eq!(parse_rate("1.5mbit"), Ok(1_500_000));
        assert_eq!(parse_rate("64k"), Ok(64_000));
        assert_eq!(parse_rate("10GBIT"), Ok(10_000_000_000));
        assert_eq!(parse_rate("9600"), Ok(9600));
        assert_eq!(parse_rate("9600bit"), Ok(9600));
        assert!(parse_rate("0").is_err());
        assert!(parse_rate("1.5bit").is_err());
        assert!(parse_rate("10mbps").unwrap_err().contains("ambiguous"));
        assert!(parse_rate("10furlongs")
            .unwrap_err()
            .contains("unknown unit"));
        for bps in [
            1,
            999,
            1000,
            1500,
            64_000,
            1_500_000,
            100_000_000,
            2_000_000_000,
        ] {
            assert_eq!(parse_rate(&format_rate(bps)), Ok(bps));
        }
        assert_eq!(format_rate(100_000_000), "100mbit");
        assert_eq!(format_rate(1_500_000), "1500kbit");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("20ms"), Ok(Duration::from_millis(20)));
        assert_eq!(parse_duration("1.5ms"), Ok(Duration::from_micros(1500)));
        assert_eq!(parse_duration("250us"), Ok(Duration::from_micros(250)));
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("0ms"), Ok(Duration::ZERO));
        assert!(parse_duration("20").unwrap_err().contains("missing unit"));
        assert!(parse_duration("0.5us").unwrap_err().contains("resolution"));
        assert!(parse_duration("5min").unwrap_err().contains("unknown unit"));
        assert!(parse_duration("ms").is_err());
        for us in [0, 1, 999, 1000, 1500, 20_000, 1_000_000, 2_500_000] {
            let d = Duration::from_micros(us);
            assert_eq!(parse_duration(&format_duration(d)), Ok(d));
        }
        assert_eq!(format_duration(Duration::from_millis(2500)), "2500ms");
    }

    #[test]
    fn probabilities() {
        assert_eq!(parse_probability("0.01"), Ok(0.01));
        assert_eq!(parse_probability("1"), Ok(1.0));
        assert_eq!(parse_probability("1e-3"), Ok(0.001));
        assert!(parse_probability("1.5").is_err());
        assert!(parse_probability("-0.1").is_err());
        assert!(parse_probability("NaN").is_err());
        assert!(parse_probability("lots").is_err());
    }
}
