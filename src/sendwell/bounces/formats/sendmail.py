"""Sendmail (and its look-alikes): "----- The following addresses had permanent fatal errors -----" and a transcript."""

from sendwell.bounces.formats.common import TextFormat, rx, sign

FORMAT = TextFormat(
    name="sendmail",
    sign=sign(
        r"the following addresses had (permanent fatal |transient non-fatal |permanent delivery )?"
        r"(errors|delivery problems)|transcript of session follows|returned mail: see transcript"
    ),
    start=rx(r"^\s*-{3,} ?the following addresses had [^\n]*"),
    end=rx(r"^\s*-{3,} ?(original message|returned message|unsent message|message header)|^reporting-mta:"),
)
detect = FORMAT.detect
