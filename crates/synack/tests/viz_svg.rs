//! Every SVG the demo and the tracer write is XML with one arrow per drawn
//! segment; the time–sequence graph has one bar per data segment.

mod demo_common;

use demo_common::play;
use synack::demo::Scenario;
use synack::viz::{graph, Lang};

fn count_class(svg: &str, element: &str, class: &str) -> usize {
    let doc = roxmltree::Document::parse(svg).expect("well-formed SVG");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    doc.descendants()
        .filter(|n| n.tag_name().name() == element)
        .filter(|n| {
            n.attribute("class")
                .is_some_and(|c| c.split(' ').any(|w| w == class))
        })
        .count()
}

#[test]
fn demo_svgs_parse_and_have_one_arrow_per_segment() {
    for s in Scenario::ALL {
        for lang in [Lang::En, Lang::Zh] {
            let d = play(s, lang);
            let want: usize = d.ladders().map(|l| l.arrows().count()).sum();
            assert!(want > 0, "{s}: nothing drawn");
            let svg = d.render_svg();
            assert_eq!(count_class(&svg, "g", "arrow"), want, "{s} {lang:?}");
        }
    }
}

#[test]
fn graphs_parse_and_have_one_bar_per_data_segment() {
    for s in [
        Scenario::Transfer,
        Scenario::ZeroWindow,
        Scenario::HalfClose,
    ] {
        let d = play(s, Lang::En);
        let conv = &d.conversation;
        let (r, l) = conv.data_bytes();
        let data = conv
            .packets
            .iter()
            .filter(|p| conv.is_rightward(p) == (r >= l) && p.seg.len > 0)
            .count();
        let svg = graph::render(conv, Lang::En);
        assert_eq!(count_class(&svg, "line", "segment"), data, "{s}");
        assert!(svg.contains("time (s)"));
    }
}
