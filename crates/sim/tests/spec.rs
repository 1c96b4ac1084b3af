//! The text form of a link spec: every key, units, errors, round trip.

use std::time::Duration;

use sim::{LinkSpec, SpecError};

fn parse(s: &str) -> LinkSpec {
    s.parse()
        .unwrap_or_else(|e| panic!("`{s}` should parse: {e}"))
}

fn error(s: &str) -> String {
    match s.parse::<LinkSpec>() {
        Ok(spec) => panic!("`{s}` should not parse, got {spec:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn empty_is_perfect() {
    assert_eq!(parse(""), LinkSpec::PERFECT);
    assert_eq!(parse("  "), LinkSpec::default());
    assert_eq!(parse(","), LinkSpec::default());
    assert_eq!(LinkSpec::default().to_string(), "");
    let p = LinkSpec::PERFECT;
    assert_eq!(p.rate, None);
    assert_eq!(p.delay, Duration::ZERO);
    assert_eq!(p.queue, LinkSpec::DEFAULT_QUEUE);
    assert_eq!(p.loss, 0.0);
}

#[test]
fn the_example_from_the_issue() {
    let s = parse(
        "rate=100mbit,delay=20ms,jitter=2ms,queue=64,loss=0.01,burst=0.3,\
         reorder=0.02,dup=0.01,corrupt=0.001",
    );
    assert_eq!(
        s,
        LinkSpec {
            rate: Some(100_000_000),
            delay: Duration::from_millis(20),
            jitter: Duration::from_millis(2),
            queue: 64,
            loss: 0.01,
            burst: Some(0.3),
            reorder: 0.02,
            reorder_delay: None,
            dup: 0.01,
            corrupt: 0.001,
        }
    );
    assert_eq!(
        s.to_string(),
        "rate=100mbit,delay=20ms,jitter=2ms,queue=64,loss=0.01,burst=0.3,\
         reorder=0.02,dup=0.01,corrupt=0.001"
    );
}

#[test]
fn every_key_alone() {
    assert_eq!(parse("rate=5mbit").rate, Some(5_000_000));
    assert_eq!(parse("delay=3ms").delay, Duration::from_millis(3));
    assert_eq!(parse("jitter=250us").jitter, Duration::from_micros(250));
    assert_eq!(parse("queue=10").queue, 10);
    assert_eq!(parse("queue=0").queue, 0);
    assert_eq!(parse("queue=unlimited").queue, usize::MAX);
    assert_eq!(parse("loss=0.1").loss, 0.1);
    assert_eq!(parse("burst=0.5").burst, Some(0.5));
    assert_eq!(parse("reorder=0.2").reorder, 0.2);
    assert_eq!(
        parse("reorder_delay=4ms").reorder_delay,
        Some(Duration::from_millis(4))
    );
    assert_eq!(parse("dup=0.3").dup, 0.3);
    assert_eq!(parse("corrupt=1").corrupt, 1.0);
}

#[test]
fn rate_units() {
    for (text, bps) in [
        ("rate=9600", 9600),
        ("rate=9600bit", 9600),
        ("rate=64k", 64_000),
        ("rate=64kbit", 64_000),
        ("rate=1.5m", 1_500_000),
        ("rate=1.5mbit", 1_500_000),
        ("rate=100Mbit", 100_000_000),
        ("rate=1g", 1_000_000_000),
        ("rate=2.5gbit", 2_500_000_000),
    ] {
        assert_eq!(parse(text).rate, Some(bps), "{text}");
    }
}

#[test]
fn duration_units() {
    for (text, us) in [
        ("delay=0", 0),
        ("delay=7us", 7),
        ("delay=1.5ms", 1500),
        ("delay=20ms", 20_000),
        ("delay=2s", 2_000_000),
        ("delay=0.25s", 250_000),
    ] {
        assert_eq!(parse(text).delay, Duration::from_micros(us), "{text}");
    }
}

#[test]
fn whitespace_order_and_case_do_not_matter() {
    assert_eq!(
        parse(" DELAY = 5ms , loss=0.5,rate=1MBIT "),
        parse("rate=1mbit,delay=5ms,loss=0.5")
    );
}

#[test]
fn errors_name_the_key_and_value() {
    let e = error("delay=20");
    assert!(
        e.contains("`delay`") && e.contains("`20`") && e.contains("unit"),
        "{e}"
    );
    let e = error("rate=fast");
    assert!(e.contains("`rate`") && e.contains("`fast`"), "{e}");
    let e = error("rate=10mbps");
    assert!(e.contains("ambiguous"), "{e}");
    let e = error("rate=0");
    assert!(e.contains("greater than zero"), "{e}");
    let e = error("loss=1.5");
    assert!(e.contains("`loss`") && e.contains("between 0 and 1"), "{e}");
    let e = error("loss=-0.1");
    assert!(e.contains("`loss`"), "{e}");
    let e = error("queue=-1");
    assert!(e.contains("`queue`"), "{e}");
    let e = error("jitter=1.5us");
    assert!(e.contains("resolution"), "{e}");
    let e = error("burst=1");
    assert!(e.contains("`burst`") && e.contains("below 1"), "{e}");
    let e = error("delay=5min");
    assert!(e.contains("unknown unit"), "{e}");
}

#[test]
fn structural_errors() {
    assert_eq!(
        "speed=1mbit".parse::<LinkSpec>(),
        Err(SpecError::UnknownKey {
            key: "speed".into()
        })
    );
    let e = error("speed=1mbit");
    assert!(e.contains("`speed`") && e.contains("rate, delay"), "{e}");
    assert_eq!(
        "delay".parse::<LinkSpec>(),
        Err(SpecError::MissingValue {
            key: "delay".into()
        })
    );
    assert!(error("delay").contains("needs a value"));
    assert!(matches!(
        "nonsense".parse::<LinkSpec>(),
        Err(SpecError::UnknownKey { .. })
    ));
    assert_eq!(
        "loss=0.1,loss=0.2".parse::<LinkSpec>(),
        Err(SpecError::Duplicate { key: "loss".into() })
    );
    assert!(error("loss=0.1,LOSS=0.2").contains("twice"));
}

#[test]
fn impossible_burst_loss_combination_is_rejected() {
    // With burst b the stationary loss can be at most 1/(2-b).
    assert!(parse("loss=0.5,burst=0").burst.is_some());
    let e = error("loss=0.6,burst=0");
    assert!(e.contains("loss=0.6") && e.contains("burst=0"), "{e}");
    assert!(matches!(
        "loss=1,burst=0.9".parse::<LinkSpec>(),
        Err(SpecError::Inconsistent(_))
    ));
    parse("loss=0.9,burst=0.9");
    // Independent losses can be anything.
    parse("loss=1");
}

#[test]
fn display_round_trips() {
    for text in [
        "",
        "rate=1bit",
        "rate=1500kbit,delay=1500us",
        "rate=10gbit,delay=2s,jitter=1ms",
        "queue=unlimited",
        "queue=0,loss=1",
        "loss=0.0001,burst=0",
        "reorder=0.5,reorder_delay=3ms",
        "dup=0.000001,corrupt=0.3333",
        "rate=100mbit,delay=20ms,jitter=2ms,queue=64,loss=0.01,burst=0.3,reorder=0.02,dup=0.01,corrupt=0.001",
    ] {
        let spec = parse(text);
        assert_eq!(spec.to_string(), text, "canonical form of {text}");
        assert_eq!(parse(&spec.to_string()), spec);
    }
    // Non-canonical input prints canonically and still round-trips.
    let spec = parse("delay=1000ms,rate=1000000,loss=1e-3");
    assert_eq!(spec.to_string(), "rate=1mbit,delay=1s,loss=0.001");
    assert_eq!(parse(&spec.to_string()), spec);
}

#[test]
fn validate_reports_out_of_range_fields() {
    let mut spec = LinkSpec::PERFECT;
    assert_eq!(spec.validate(), Ok(()));
    spec.dup = 2.0;
    assert!(spec.validate().unwrap_err().to_string().contains("`dup`"));
    spec.dup = 0.0;
    spec.burst = Some(1.0);
    assert!(spec.validate().is_err());
    spec.burst = None;
    spec.rate = Some(0);
    assert!(spec.validate().is_err());
}

#[test]
fn default_reorder_delay() {
    assert_eq!(
        parse("").effective_reorder_delay(),
        Duration::from_millis(1)
    );
    assert_eq!(
        parse("delay=20ms").effective_reorder_delay(),
        Duration::from_millis(5)
    );
    assert_eq!(
        parse("delay=20ms,reorder_delay=300us").effective_reorder_delay(),
        Duration::from_micros(300)
    );
}
