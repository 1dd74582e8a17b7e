"""Japanese carriers and filters: au/KDDI (ezweb, dion), NTT docomo, BIGLOBE, m-FILTER."""

from sendwell.bounces.formats.common import TextFormat, rx, sign
from sendwell.bounces.report import Reason

FORMAT = TextFormat(
    name="japan",
    sign=sign(
        r"\A[^\n]*(ezweb\.ne\.jp|dion\.ne\.jp|biglobe\.ne\.jp|docomo\.ne\.jp)|m-filter|"
        r"\u30e1\u30fc\u30eb\u30a2\u30c9\u30ec\u30b9\u3078\u306e\u9001\u4fe1\u306b\u5931\u6557"
    ),
    end=rx(r"^-{10,}\s*$\n^received:|^-{3,} ?original"),
    hints=(
        (rx(r"rejected by a remote mail server|domain ?filter"), Reason.FILTERED),
        (rx(r"mailbox is full|exceeded the local limit"), Reason.MAILBOXFULL),
        (rx(r"not delivered within .* (days|hours)|remote host is not responding"), Reason.EXPIRED),
    ),
)
detect = FORMAT.detect
