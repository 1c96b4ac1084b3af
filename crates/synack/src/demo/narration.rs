//! What the demo says around its diagrams, in English and Chinese.

use super::scenario::Scenario;
use crate::viz::Lang;

/// Headings of the parts of a connection.
pub(crate) fn heading_open(lang: Lang) -> &'static str {
    lang.pick("Three-way handshake", "三次握手 (three-way handshake)")
}

/// The transfer heading.
pub(crate) fn heading_transfer(lang: Lang) -> &'static str {
    lang.pick("Data transfer", "数据传输 (data transfer)")
}

/// The close heading.
pub(crate) fn heading_close(lang: Lang) -> &'static str {
    lang.pick("Four-way close", "四次挥手 (four-way close)")
}

/// The scenario's title.
pub(crate) fn title(s: Scenario, lang: Lang) -> &'static str {
    use Scenario::*;
    match (s, lang) {
        (Transfer, Lang::En) => "Handshake, transfer, close",
        (Handshake, Lang::En) => "The three-way handshake",
        (Close, Lang::En) => "The four-way close",
        (LostSyn, Lang::En) => "A lost SYN",
        (OldDuplicateSyn, Lang::En) => "An old duplicate SYN",
        (HalfClose, Lang::En) => "Half-close",
        (SimultaneousOpen, Lang::En) => "Simultaneous open",
        (SimultaneousClose, Lang::En) => "Simultaneous close",
        (Reset, Lang::En) => "Reset (abort)",
        (Refused, Lang::En) => "Connection refused",
        (SynFlood, Lang::En) => "SYN flood and SYN cookies",
        (ZeroWindow, Lang::En) => "Zero window and persist probes",
        (Transfer, Lang::Zh) => "握手、传输、关闭",
        (Handshake, Lang::Zh) => "三次握手",
        (Close, Lang::Zh) => "四次挥手",
        (LostSyn, Lang::Zh) => "SYN 丢失",
        (OldDuplicateSyn, Lang::Zh) => "旧的重复 SYN",
        (HalfClose, Lang::Zh) => "半关闭",
        (SimultaneousOpen, Lang::Zh) => "同时打开",
        (SimultaneousClose, Lang::Zh) => "同时关闭",
        (Reset, Lang::Zh) => "复位（中止连接）",
        (Refused, Lang::Zh) => "连接被拒绝",
        (SynFlood, Lang::Zh) => "SYN 洪泛与 SYN cookie",
        (ZeroWindow, Lang::Zh) => "零窗口与坚持探测",
    }
}

/// What the scenario shows, before its diagram.
pub(crate) fn intro(s: Scenario, lang: Lang) -> &'static str {
    use Scenario::*;
    match (s, lang) {
        (Transfer, Lang::En) => {
            "The client opens a connection, sends its data and closes; the server reads \
             everything and closes too. Each host is a full synack endpoint; the link between \
             them is simulated, so every run with the same seed shows the same packets."
        }
        (Transfer, Lang::Zh) => {
            "客户端建立连接、发送数据后关闭；服务器读完全部数据后也关闭。两端都是完整的 synack \
             协议栈，它们之间的链路是模拟的：相同的种子 (seed) 每次都得到相同的报文。"
        }
        (Handshake, Lang::En) => {
            "SYN carries the client's initial sequence number (ISN) and options; SYN-ACK \
             carries the server's and acknowledges the client's; the final ACK acknowledges \
             the server's. Each SYN takes one sequence number, so the ACKs say 1."
        }
        (Handshake, Lang::Zh) => {
            "SYN 携带客户端的初始序号 (ISN) 和选项；SYN-ACK 携带服务器的 ISN 并确认客户端的 \
             SYN；最后的 ACK 确认服务器的 SYN。每个 SYN 占用一个序号，所以确认号是 1。"
        }
        (Close, Lang::En) => {
            "Each direction closes on its own: the client's FIN is acknowledged by the server, \
             whose application closes a moment later; its FIN is acknowledged by the client, \
             which then waits 2·MSL in TIME-WAIT before the connection is gone."
        }
        (Close, Lang::Zh) => {
            "两个方向各自关闭：服务器确认客户端的 FIN，它的应用稍后关闭并发出自己的 FIN；客户端确认后\
             进入 TIME-WAIT，等待 2·MSL 后连接才真正消失。"
        }
        (LostSyn, Lang::En) => {
            "The network drops the client's SYN. Nothing comes back, so after the initial \
             retransmission timeout (1 s, RFC 6298) the client sends the SYN again."
        }
        (LostSyn, Lang::Zh) => {
            "网络丢弃了客户端的 SYN。没有任何回应，于是客户端在初始重传超时（1 秒，RFC 6298）\
             之后重发 SYN。"
        }
        (OldDuplicateSyn, Lang::En) => {
            "RFC 9293 Figure 8: the client's SYN is delayed (here: lost, then resent), and a \
             stale SYN from an earlier connection on the same ports reaches the server first. \
             The server answers it; the client sees an ACK of a sequence number it never sent \
             and answers with a RST, which puts the server back in LISTEN."
        }
        (OldDuplicateSyn, Lang::Zh) => {
            "RFC 9293 图 8：客户端的 SYN 被耽搁（这里是丢失后重发），而同一端口上一个旧连接遗留的 SYN \
             先到达服务器。服务器回应了它；客户端发现对方确认的是自己从未发送过的序号，于是回复 RST，\
             服务器回到 LISTEN。"
        }
        (HalfClose, Lang::En) => {
            "The client sends a request and closes its sending side. The server, in \
             CLOSE-WAIT, can still send: it answers, then closes. Half-close is how a program \
             says \"that was all my input\" without hanging up."
        }
        (HalfClose, Lang::Zh) => {
            "客户端发送请求后关闭自己的发送方向。处于 CLOSE-WAIT 的服务器仍然可以发送：它先回复，\
             再关闭。半关闭让程序表示\"我的输入结束了\"而不必挂断。"
        }
        (SimultaneousOpen, Lang::En) => {
            "A and B each connect to the other's port at the same instant. Both SYNs cross; \
             each side, in SYN-SENT, receives a SYN and moves to SYN-RECEIVED, then the \
             SYN-ACKs complete the connection: four segments, one connection."
        }
        (SimultaneousOpen, Lang::Zh) => {
            "A 和 B 在同一时刻连接对方的端口。两个 SYN 在途中交错；处于 SYN-SENT 的双方各自收到 SYN \
             而进入 SYN-RECEIVED，随后的 SYN-ACK 建立连接：四个报文段，一条连接。"
        }
        (SimultaneousClose, Lang::En) => {
            "Both applications close at the same instant. The FINs cross: each side, in \
             FIN-WAIT-1, receives a FIN before the ACK of its own and enters CLOSING; then \
             both wait in TIME-WAIT."
        }
        (SimultaneousClose, Lang::Zh) => {
            "双方应用在同一时刻关闭。两个 FIN 交错：处于 FIN-WAIT-1 的双方都先收到对方的 FIN，\
             进入 CLOSING；之后双方都进入 TIME-WAIT 等待。"
        }
        (Reset, Lang::En) => {
            "The client aborts: instead of a FIN it sends a RST, and both sides go straight to \
             CLOSED. There is no TIME-WAIT and the server's application sees \"connection \
             reset by peer\"."
        }
        (Reset, Lang::Zh) => {
            "客户端中止连接：它发送 RST 而不是 FIN，双方直接进入 CLOSED。没有 TIME-WAIT，\
             服务器的应用看到\"连接被对方重置\"。"
        }
        (Refused, Lang::En) => {
            "Nothing listens on port 81. The server's stack answers the SYN with a RST that \
             acknowledges it; the client gives up at once: \"connection refused\"."
        }
        (Refused, Lang::Zh) => {
            "81 端口上没有程序监听。服务器的协议栈用一个确认该 SYN 的 RST 回答；客户端立即放弃：\
             \"连接被拒绝\"。"
        }
        (SynFlood, Lang::En) => {
            "An attacker sends SYNs from made-up addresses. Their half-open connections fill \
             the server's SYN queue; from then on the server keeps no state for a SYN and \
             encodes it in the sequence number of its SYN-ACK (a SYN cookie). The real client's \
             ACK returns the cookie and the connection is rebuilt from it."
        }
        (SynFlood, Lang::Zh) => {
            "攻击者用伪造的地址发送大量 SYN。这些半开连接填满了服务器的 SYN 队列；此后服务器不再为 SYN \
             保存状态，而是把它编码进 SYN-ACK 的序号里（SYN cookie）。真正的客户端的 ACK 带回了 \
             cookie，服务器据此重建连接。"
        }
        (ZeroWindow, Lang::En) => {
            "The server's application does not read for 3 seconds and its 4 KiB receive \
             buffer fills: it advertises a zero window. The client stops sending and probes the \
             window with its persist timer, backing off, until the server reads and a window \
             update lets the data flow again."
        }
        (ZeroWindow, Lang::Zh) => {
            "服务器的应用 3 秒内不读数据，4 KiB 的接收缓冲区被填满：它通告零窗口。客户端停止发送，\
             用坚持计时器发送窗口探测（间隔逐渐加倍），直到服务器读取数据，窗口更新让数据重新流动。"
        }
    }
}

/// How to read the ladder.
pub(crate) fn reading_guide(lang: Lang, absolute: bool) -> &'static str {
    match (lang, absolute) {
        (Lang::En, false) => {
            "Each row is a segment: left, the time it left or reached the left host and the \
             state that host entered; right, the same for the other host. Sequence numbers are \
             relative to each side's ISN, as Wireshark shows them (--absolute for the real ones)."
        }
        (Lang::En, true) => {
            "Each row is a segment: left, the time it left or reached the left host and the \
             state that host entered; right, the same for the other host. Sequence numbers are \
             absolute."
        }
        (Lang::Zh, false) => {
            "每一行是一个报文段：左边是它离开或到达左侧主机的时间以及该主机进入的状态，右边同理。\
             序号相对于各自的 ISN，与 Wireshark 的显示相同（--absolute 显示真实序号）。"
        }
        (Lang::Zh, true) => {
            "每一行是一个报文段：左边是它离开或到达左侧主机的时间以及该主机进入的状态，右边同理。\
             序号为绝对值。"
        }
    }
}
