//! The words diagrams use, in English and Chinese: state explanations,
//! causes, remarks about segments.

use proto::conn::{Cause, State};

use super::capture::Mark;

/// The language of narration and explanations. State names stay as
/// RFC 9293 spells them (`SYN-SENT`) in every language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    /// English.
    #[default]
    En,
    /// Simplified Chinese.
    Zh,
}

impl Lang {
    /// `en` or `zh`.
    pub fn parse(s: &str) -> Option<Lang> {
        match s.to_ascii_lowercase().as_str() {
            "en" | "english" => Some(Lang::En),
            "zh" | "cn" | "zh-cn" | "chinese" => Some(Lang::Zh),
            _ => None,
        }
    }

    /// Picks the text of this language.
    pub fn pick<'a>(self, en: &'a str, zh: &'a str) -> &'a str {
        match self {
            Lang::En => en,
            Lang::Zh => zh,
        }
    }

    /// What a state means, in one line.
    pub fn explain_state(self, s: State) -> &'static str {
        use State::*;
        match (self, s) {
            (Lang::En, Closed) => "no connection",
            (Lang::En, Listen) => "waiting for a SYN from any peer",
            (Lang::En, SynSent) => "sent a SYN, waiting for the peer's SYN and ACK",
            (Lang::En, SynReceived) => "got a SYN and answered SYN-ACK, waiting for the ACK",
            (Lang::En, Established) => "open: data flows both ways",
            (Lang::En, FinWait1) => "closed our side (FIN sent), waiting for its ACK",
            (Lang::En, FinWait2) => "our FIN is acknowledged, waiting for the peer's FIN",
            (Lang::En, CloseWait) => "the peer closed; we may still send, then close",
            (Lang::En, Closing) => "both sent FIN at once, waiting for the ACK of ours",
            (Lang::En, LastAck) => "closed after the peer, waiting for the ACK of our FIN",
            (Lang::En, TimeWait) => {
                "waiting 2·MSL so old segments die and the last ACK can be resent"
            }
            (Lang::Zh, Closed) => "没有连接",
            (Lang::Zh, Listen) => "监听：等待任何一方发来 SYN",
            (Lang::Zh, SynSent) => "已发送 SYN，等待对方的 SYN 和 ACK",
            (Lang::Zh, SynReceived) => "收到 SYN 并回复了 SYN-ACK，等待 ACK",
            (Lang::Zh, Established) => "连接已建立：双向传输数据",
            (Lang::Zh, FinWait1) => "本端已关闭（发出 FIN），等待它的 ACK",
            (Lang::Zh, FinWait2) => "本端的 FIN 已被确认，等待对方的 FIN",
            (Lang::Zh, CloseWait) => "对方已关闭；本端仍可发送，之后再关闭",
            (Lang::Zh, Closing) => "双方同时发出 FIN，等待对本端 FIN 的 ACK",
            (Lang::Zh, LastAck) => "在对方之后关闭，等待对本端 FIN 的 ACK",
            (Lang::Zh, TimeWait) => "等待 2·MSL，让旧报文消失，必要时重发最后的 ACK",
        }
    }

    /// Why a state changed, in a few words.
    pub fn cause(self, c: Cause) -> &'static str {
        match self {
            Lang::En => c.describe(),
            Lang::Zh => match c {
                Cause::ActiveOpen => "主动打开 (connect)",
                Cause::PassiveOpen => "被动打开 (listen)",
                Cause::SynReceived => "收到 SYN",
                Cause::SynAckReceived => "收到 SYN-ACK",
                Cause::AckReceived => "收到 ACK",
                Cause::FinReceived => "收到 FIN",
                Cause::FinAckReceived => "收到 FIN+ACK",
                Cause::RstReceived => "收到 RST",
                Cause::Close => "应用关闭 (close)",
                Cause::Abort => "应用中止 (abort)",
                Cause::DataAfterClose => "关闭后又收到数据",
                Cause::TimeWaitExpired => "2·MSL 到期",
                Cause::FinWait2Timeout => "FIN-WAIT-2 超时",
                Cause::Timeout => "超时",
            },
        }
    }

    /// A remark about a segment, as shown next to its arrow.
    pub fn mark(self, m: Mark) -> &'static str {
        match (self, m) {
            (Lang::En, Mark::Lost) => "LOST",
            (Lang::En, Mark::Retransmission) => "retransmission",
            (Lang::En, Mark::FastRetransmit) => "fast retransmit",
            (Lang::En, Mark::WindowProbe) => "window probe",
            (Lang::En, Mark::ZeroWindow) => "zero window",
            (Lang::En, Mark::WindowUpdate) => "window update",
            (Lang::En, Mark::DupAck) => "dup ACK",
            (Lang::En, Mark::KeepAlive) => "keep-alive",
            (Lang::En, Mark::ChallengeAck) => "challenge ACK",
            (Lang::En, Mark::OldDuplicate) => "old duplicate",
            (Lang::En, Mark::SynCookie) => "SYN cookie",
            (Lang::En, Mark::Duplicated) => "delivered twice",
            (Lang::En, Mark::Corrupted) => "corrupted",
            (Lang::Zh, Mark::Lost) => "丢失",
            (Lang::Zh, Mark::Retransmission) => "重传",
            (Lang::Zh, Mark::FastRetransmit) => "快速重传",
            (Lang::Zh, Mark::WindowProbe) => "窗口探测",
            (Lang::Zh, Mark::ZeroWindow) => "零窗口",
            (Lang::Zh, Mark::WindowUpdate) => "窗口更新",
            (Lang::Zh, Mark::DupAck) => "重复 ACK",
            (Lang::Zh, Mark::KeepAlive) => "保活",
            (Lang::Zh, Mark::ChallengeAck) => "挑战 ACK",
            (Lang::Zh, Mark::OldDuplicate) => "旧的重复报文",
            (Lang::Zh, Mark::SynCookie) => "SYN cookie",
            (Lang::Zh, Mark::Duplicated) => "重复投递",
            (Lang::Zh, Mark::Corrupted) => "已损坏",
        }
    }
}
