"""The reason table: diagnostic text and status codes → a Reason, read top to bottom, first match wins.

Three tables, consulted in this order by `decide`:
1. STATUS_FIRST: status codes specific enough to beat any wording (5.2.2 is a full mailbox whatever it says).
2. TEXT_RULES: phrases MTAs use, matched on the lower-cased, whitespace-collapsed diagnostic.
   Ordered from the most specific cause to the most generic one, so "sender rejected: low reputation"
   is `badreputation` before it is `rejected`.
3. STATUS_RULES: the RFC 3463 meaning of the code, when the wording said nothing we know.
Then the SMTP command the remote refused (MAIL FROM → rejected, HELO → blocked), then `onhold`.
When the MTA gave no status code, PSEUDO_STATUS gives one (Sisimai's X.0.9NN convention).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sendwell.bounces import text as T
from sendwell.bounces.report import Reason as R


@dataclass(frozen=True, slots=True)
class TextRule:
    reason: R
    pattern: str  # a regular expression on lower-cased text with runs of white space collapsed
    statuses: str = ""  # when set: a comma list of status prefixes the rule is limited to ("5.1.1,4.")


TEXT_RULES: tuple[TextRule, ...] = (
    # Success and delays are decided from the DSN Action field, not from text.
    # Our sending identity or relay set-up is at fault.
    TextRule(R.NORELAYING, r"relay(ing)? (access )?(denied|not permitted|not allowed|prohibited)|"
             r"not configured to relay|"
             r"(unable|not permitted|not allowed) to relay|we do not relay|no relaying|not a (mail )?gateway|"
             r"relay not authori[sz]ed|email address is not verified|relaying mail to .* is not allowed|"
             r"allowed rcpthosts|not in my list of (allowed|local)"),
    # The destination has moved or accepts no mail at all.
    TextRule(R.HASMOVED, r"no longer on (this )?server|address has (been )?changed|recipient has moved|"
             r"user has moved|has moved to|mailbox has moved|address has moved"),
    TextRule(R.SUPPRESSED, r"suppression list|address is suppressed|(on|in) (the|our|a) suppress|"
             r"suppressed (address|recipient)"),
    TextRule(R.NOTACCEPT, r"null mx|indicated no smtp service|doesn't receive email|not accepting network messages|"
             r"does not receive (e-?)?mail|"
             r"accepts no mail|"
             r"does not accept (e-?)?mail|not accepting (e-?)?mail for|domain does not accept|"
             r"(not|never) accepts? any (e-?)?mail"),
    # Authentication of our mail (SPF / DKIM / DMARC) and our IP's standing.
    TextRule(R.REQUIREPTR, r"reverse dns|rdns|\bptr\b|reverse (host ?name|lookup|mapping)|"
             r"(cannot|can't|could not|unable to) (find|resolve) your (host ?name|domain)|"
             r"ip name (lookup|possibly forged)|no (valid )?reverse|client host .* (lacks|has no|without) .*name|"
             r"not have a valid hostname|unresolvable (ip|host|address)|hostname .* (does not|doesn't) resolve|"
             r"resolve your address|client host rejected: cannot find your|unverif(y|i)able sending ip"),
    TextRule(R.NOTCOMPLIANTRFC, r"duplicate header|multiple .*addresses in from|rfc ?(5322|2822)|\brfc 822\b|"
             r"not (rfc|standards?) complian|malformed (header|message)|missing (required |mandatory )?header|"
             r"header (is )?(invalid|missing|malformed)|invalid header|too many headers"),
    TextRule(R.AUTHFAILURE, r"dmarc|spf (check|fail|validation|softfail)|(fail(ed|s)?|failing) spf|spf=(fail|softfail)|"
             r"sender policy framework|dkim (signature )?(fail|invalid|verification)|(fail(ed|s)?|invalid) dkim|"
             r"(does not have|lacks) authentication information|fails? to pass authentication|"
             r"authentication checks? (did not|failed)|not authenticated .* (sender|domain)|unauthenticated email"),
    TextRule(R.BADREPUTATION, r"(low|poor|bad) reputation|reputation of (the|your) (sending )?ip|user complaints|"
             r"sender ?score|ip reputation"),
    TextRule(R.FAILEDSTARTTLS, r"starttls (is )?(required|failed)|must issue a starttls|tls (is )?required|"
             r"encryption (is )?required|requires? (a )?(secure|encrypted|tls) connection"),
    # The connection broke mid-conversation: whatever step it was at (HELO, DATA), nobody refused anything.
    TextRule(R.NETWORKERROR, r"lost connection (with|to)|connection (was )?(reset|dropped|closed) by|"
             r"(wasn't|was not|couldn't|could not|unable to|not) (be )?(able to )?establish(ed)? (an |the )?(smtp )?"
             r"connection"),
    # Our host or IP named as the one refused, whatever else the answer mentions (spam, a policy).
    TextRule(R.BLOCKED, r"client host (\S+ )?(rejected|blocked|refused)|invalid ip for sending|"
             r"\b(ip|ip address|client|sender ip) (address )?\S* ?(is |has been )?(blocked|banned|blacklisted)"),
    # Content judged unwanted.
    TextRule(R.VIRUSDETECTED, r"\bvirus|malware|infected|trojan"),
    TextRule(R.SPAMDETECTED, r"\bspam\b|(black|block)listed (url|link|domain)s? in|\buribl\b|\bsurbl\b|"
             r"spam (message|content|score|classification|detected)|scored as spam|"
             r"\bube\b|unsolicited|bulk (e-?)?mail|junk mail|message content rejected|looks like spam|"
             r"considered (as )?spam|spamassassin|detected as spam|identified as spam|rejected as spam|"
             r"suspected spam|content filter rejection"),
    TextRule(R.CONTENTERROR, r"8-?bit data|headers? (are |is )?too (large|long|big)|improper use of|"
             r"(content|attachment|file( type)?|extension) "
             r"(is )?(not allowed|prohibited|rejected|blocked)|illegal attachment|bad content|"
             r"invalid (mime|content|character)|message (body )?contains|content error|"
             r"message (was )?rejected (due to|because of) (its )?content"),
    TextRule(R.POLICYVIOLATION, r"polic(y|ies)|message not allowed|not allowed by|content presents a potential|"
             r"prohibited|violat|acceptable use|network not allowed|terms of service|header error"),
    # The sending IP or host is refused.
    TextRule(R.TOOMANYCONN, r"too many (concurrent |simultaneous )?(connections|sessions|smtp sessions)|"
             r"connection (rate|frequency|count) (limit|limited|exceeded)|connection limit|"
             r"too many (recipients|rcpt)|exceeded (the )?(maximum )?number of connections"),
    TextRule(R.SPEEDING, r"receiving mail (at|too) (a )?(rate|fast)|"
             r"rate limit|too many (messages|mails|emails)|sending rate|exceeded .* rate|"
             r"(temporarily )?(deferred|throttled) due to|throttl|slow down|too fast"),
    TextRule(R.BLOCKED, r"blocked using|black ?list|block ?list|blocklisted|blacklisted|spamhaus|spamcop|"
             r"\bdnsbl\b|\brbl\b|\bsbl\b|\bxbl\b|\bpbl\b|sorbs|barracudacentral|(?<!not )listed (at|in|on|by)|"
             r"client host (\S+ )?(rejected|blocked|refused)|\b(ip|ip address|client|host|sender ip) (address )?\S* ?"
             r"(is |has been )?(blocked|banned|blacklisted)|your ip|smtp server of your isp|relay quota|"
             r"(connection|access) (refused|denied|rejected) (from|for|to) .*\d+\.\d+\.\d+|"
             r"not accepting connections|service refused|service refuse|my name was rejected|greeting failed|"
             r"refused to talk to me|(helo|ehlo)|banned|poor ip|"
             r"dialup|dynamic ip|residential|\(bl\)|has been blocked|hostname (is )?blocked|"
             r"you are not allowed to connect|"
             r"access denied .*\bip\b"),
    TextRule(R.FILTERED, r"\b550:? : user unknown"),
    # RFC 5321's stock text for 550 says the mailbox is unavailable, not that it does not exist; without a
    # 5.1.x code it is read as a refusal by the recipient's side, which never blacklists the address.
    TextRule(R.FILTERED, r"requested action not taken:? (mailbox unavailable|no such user here)", "5.0,5.2,5.7,4"),
    # Microsoft's "Recipient address rejected: Access denied" is its answer for an unknown recipient.
    TextRule(R.USERUNKNOWN, r"recipient address rejected: access denied"),
    # The recipient's mailbox.
    # The server's own disk or spool, not the recipient's quota.
    TextRule(R.SYSTEMFULL, r"insufficient system storage|system (is )?full|disk (is )?full|out of disk|"
             r"no space left|spool (is )?full|(insufficient|not enough|no) (free )?disk space"),
    TextRule(R.MAILBOXFULL, r"mailbox (is )?full|mail ?box full|full mailbox|over ?quota|quota (exceeded|full)|"
             r"exceeded (its |the )?(storage|quota)|(insufficient|not enough) (space|storage)|"
             r"out of storage|mailbox size limit|disk quota|storage (space|limit|quota)|too much mail|"
             r"mail ?folder is full|mailbox (has )?exceed(ed|s)|(user|account) is over|inbox is full|"
             r"is full|exceeds? (the )?(mailbox|quota)|(mailbox|disk|storage|user|account)('s)? quota|quotaexceeded"),
    # A local mailer's failure (a pipe, procmail), unless its own words said the mailbox was full.
    TextRule(R.MAILERERROR, r"x-unix|procmail|mailer error|pipe to |command (died|failed|output)|"
             r"exit (code|status)|local delivery failed|unknown mailer|mail(er)? (program|command) failed|"
             r"delivery to (a )?(program|pipe|file) failed|service unavailable \(mailer\)"),
    # KDDI (ezweb.ne.jp, au.com) answers "550 : User unknown", naming nobody, when the recipient's filter refused us.
    TextRule(R.EXCEEDLIMIT, r"recipsizelimit|too large for this recipient|exceeds? (the )?size limit (for|of) (this )?"
             r"recipient|recipient size limit|exceed(s|ed)? (a |the |its )?limit\b"),
    TextRule(R.MESGTOOBIG, r"sendsizelimit|line limit exceeded|too many lines|"
             r"message (size |length )?(is )?too (big|large|long)|"
             r"(size|length) (of (the )?message )?exceeds?|exceeds? (the )?(maximum|max|fixed|allowed|size)|"
             r"message size|too large|too big|"
             r"size limit"),
    TextRule(R.SUSPEND, r"\bdisabled|suspend|inactive|deactivated|frozen|not active|discontinued|"
             r"no longer accepts (e-?)?mail|"
             r"account (has been |is )?(closed|locked|expired|blocked)|temporar(il)?y locked|"
             r"mailbox (is )?(locked|closed|unavailable "
             r"for policy)|temporarily (disabled|unavailable)|user (account )?is (not available|unavailable)|"
             r"recipient (is )?(suspended|inactive)|mailbox (has been |is )?(deleted|expired|removed)",
             "5,4.2"),
    TextRule(R.FILTERED, r"recipient preferences|(user|recipient) refuses|refused by (the )?recipient|"
             r"rejected by (the )?recipient|filtered|filter(ed)? (rule|policy)|does not (want|accept) (to receive )?"
             r"(mail|messages) from|not accepting (messages|mail) from|sender (is )?blocked by (the )?recipient|"
             r"blocked by (the )?(user|recipient)|denied by (the )?recipient"),
    TextRule(R.SECURITYERROR, r"unauthenticated senders?|(smtp )?authentication (is )?required|turn on smtp auth|"
             r"must (authenticate|be authenticated)|requires? (smtp )?authentication"),
    TextRule(R.REJECTED, r"not a registered gateway user|\bbatv\b|empty envelope senders?|unroutable sender|"
             r"no third-party dsns|bogus mail from|returned mail not accepted|mail from not owned|"
             r"sender (address |domain )?(was )?"
             r"(rejected|refused|denied|blocked|not (allowed|accepted|verified))|"
             r"domain of sender|sender (domain |address )?(does not exist|not found|unknown|invalid)|"
             r"(invalid|bad|unknown|unverified|unroutable) sender|sender verif|mail from (address )?(rejected|refused)|"
             r"from address rejected|purported responsible address|envelope sender|return ?path|"
             r"\bmail from:? \S* (rejected|refused|denied)|(from|sender):? (domain|address) is invalid|"
             r"sender is not|address not verified|"
             r"(your|sender's?) domain (does not|doesn't) exist|message from .* rejected"),
    TextRule(R.NETWORKERROR, r"host not found, try again|dns (query|lookup) (failed|error)|dns error|network error|"
             r"malformed or unexpected name server reply|server ?fail|name server (failure|timeout)|"
             r"temporary (dns|lookup|name) (failure|error)"),
    # The domain exists but names no mail exchanger: it accepts no mail (hard, like a missing domain).
    TextRule(R.NOTACCEPT, r"no mx (record|host)s?( found)?|(couldn't|could not|cannot|unable to) find a mail exchanger|"
             r"no mail exchanger"),
    TextRule(R.HOSTUNKNOWN, r"host (or domain name )?not found|domain (name )?not found|unknown (host|domain)|"
             r"host unknown|no such (domain|host)|domain (does not|doesn't) exist|unrouteable (mail )?domain|"
             r"name service error|nxdomain|domain is not reachable|no mx|illegal host|host name lookup failure|"
             r"domain (name )?(is )?(invalid|unknown)|unable to route|unrouteable address|"
             r"mx records? point to non-?existent|no route to (domain|host) for|"
             r"invalid domain|domain .* not (exist|found)|no valid (mx|host)|mx record|"
             r"name or service not known|bad destination (system|host)"),
    TextRule(R.USERUNKNOWN, r"user ?unknown|addressee unknown|"
             r"unknown (user|recipient|local|address|mailbox|account|e-?mail)|"
             r"no such (user|mailbox|recipient|address|account|person|local)|(does not|doesn't|not) exist|"
             r"recip(ient)? ?not ?found|user (was )?not found|mailbox not found|address (not found|unknown)|"
             r"(invalid|bad|unknown|illegal|unrouteable) (recipient|mailbox|address|user|alias|destination)|"
             r"mailbox (is )?not available|"
             r"not a valid (mailbox|recipient|user|address)|no (mailbox|account)( here)?|"
             r"doesn't have an? .* account|(is|was) not (a )?(valid|known)|no longer (valid|available|exists)|"
             r"unknown or illegal|not (found|listed) in|couldn't be found|could not be found|"
             r"undeliverable address|no valid recipients|address (is )?invalid|invalid address|"
             r"recipient (is )?not (local|valid)|not our customer|user (is )?unavailable|"
             r"mailbox (does not|doesn't) exist|unknown$|unknown addr|not a known user|"
             r"no mail ?box|dd this user|user .* not (here|found)|no such (user|mailbox|person|recipient)"),
    # The message sat too long or the network failed.
    TextRule(R.NETWORKERROR, r"no route to host|network (is )?unreachable|host (is )?unreachable"),
    TextRule(R.EXPIRED, r"did not accept our requests to connect|aborted after [\d.]+ (hour|day|minute)|"
             r"failed \d+ attempts|(delivered|delivery) within|"
             r"(could not be|not been|wasn't|was not) delivered for \d+|"
             r"(could not|cannot|couldn't) (send|deliver) (the )?message for (the )?(past )?\d+|"
             r"have been failing for a long time|retry time not reached|"
             r"(delivery|retry) time (expired|exceeded|limit)|message expired|queue too long|"
             r"in the queue too long|too long in (the )?queue|retry timeout exceeded|could not be delivered within|"
             r"giving up|gave up|timed? ?out|timeout|expired|no (more )?retries|delivery attempts? (have )?"
             r"(failed|expired)|has not been delivered .* (hours|days)|unable to deliver .* (hours|days)"),
    TextRule(R.NETWORKERROR, r"network (is )?unreachable|no route to host|connection (refused|reset|closed|lost|"
             r"dropped)|too many hops|(mail|routing) loop|loops back to myself|hop count|dns (error|failure|problem)|"
             r"lookup (failed|error)|temporary (dns|lookup|name) (failure|error)|name server|"
             r"unable to connect|could not connect|can't connect|connect to .* failed|no answer from host|"
             r"connection died|closed connection|"
             r"message is looping|"
             r"lost connection|host (is )?unreachable"),
    TextRule(R.TOOMANYCONN, r"too many"),
    TextRule(R.SYSTEMFULL, r"insufficient system storage|system (is )?full|disk (is )?full|out of disk|"
             r"no space left|spool (is )?full"),
    TextRule(R.SECURITYERROR, r"authentication (is )?required|auth(entication)? (failed|error|required)|"
             r"must (authenticate|be authenticated)|access denied|not authori[sz]ed|unauthori[sz]ed|"
             r"permission denied|security (policy|error)|certificate|you are not allowed|insecure"),
    TextRule(R.SYSTEMERROR, r"system (config(uration)? )?error|internal (server )?error|local error|"
             r"service not available|"
             r"server error|service (is )?(currently )?unavailable|transaction failed|mail system|"
             r"misconfigur|configuration error|temporary (local )?problem|resources? (temporarily )?unavailable|"
             r"server (is )?(busy|too busy)|try (again )?later|could not be processed|processing error|"
             r"i/o error|system (is )?not available|routing (error|failure)"),
    TextRule(R.SYNTAXERROR, r"syntax error|malformed address|incorrectly constructed|"
             r"command (not )?(recogni[sz]ed|unrecogni[sz]ed|unknown)|"
             r"bad (command )?sequence|invalid command|unrecognized command|line too long"),
    # Postfix prefixes every RCPT restriction with "Recipient address rejected: <cause>": the cause decides,
    # and one this table does not know is not proof of an unknown mailbox unless the code says so. Without
    # a cause, the refusal of the address itself is.
    TextRule(R.USERUNKNOWN, r"address rejected(?! ?:)"),
    TextRule(R.USERUNKNOWN, r"recipient (address )?rejected|address rejected", "5.1,4.1"),
    TextRule(R.FILTERED, r"mailbox unavailable", "5.0,5.2,5.7,4"),
    TextRule(R.BLOCKED, r"\bblocked\b"),
)

# A bare refusal ("550 Rejected"): who was refused depends on the command that was answered.
REFUSAL = re.compile(r"rejected|refused|denied|not accepted")
REFUSAL_BY_COMMAND: dict[str, R] = {"MAIL": R.REJECTED, "DATA": R.FILTERED, "RCPT": R.FILTERED}


# Codes whose meaning beats any wording around them.
STATUS_FIRST: dict[str, R] = {
    "5.1.6": R.HASMOVED,
    "5.2.2": R.MAILBOXFULL,
    "4.2.2": R.MAILBOXFULL,
    "5.2.3": R.EXCEEDLIMIT,
    "5.3.4": R.MESGTOOBIG,
    "5.7.23": R.AUTHFAILURE,
    "5.7.25": R.REQUIREPTR,
    "5.7.26": R.AUTHFAILURE,
    "5.7.27": R.REJECTED,
    "5.7.509": R.AUTHFAILURE,
    "5.7.510": R.AUTHFAILURE,
    "5.7.515": R.AUTHFAILURE,
    "5.7.13": R.SUSPEND,
    "4.4.7": R.EXPIRED,
    "5.4.7": R.EXPIRED,
    "5.1.1": R.USERUNKNOWN,
}

# Rules whose wording overrides STATUS_FIRST because it says precisely who refused: a person's filter.
TEXT_OVER_STATUS = (R.FILTERED, R.MAILBOXFULL, R.NORELAYING, R.HASMOVED, R.SPAMDETECTED,
                    R.POLICYVIOLATION, R.NOTACCEPT)

# RFC 3463: class.subject.detail; a full code is tried before its subject ("5.1.1" then "x.1").
STATUS_RULES: dict[str, R] = {
    "5.1.0": R.USERUNKNOWN, "5.1.1": R.USERUNKNOWN, "5.1.2": R.HOSTUNKNOWN, "5.1.3": R.USERUNKNOWN,
    "5.1.4": R.USERUNKNOWN, "5.1.5": R.USERUNKNOWN, "5.1.6": R.HASMOVED, "5.1.7": R.REJECTED,
    "5.1.8": R.REJECTED, "5.1.9": R.USERUNKNOWN, "5.1.10": R.USERUNKNOWN,
    "4.1.8": R.REJECTED, "4.1.7": R.REJECTED, "4.1.2": R.HOSTUNKNOWN,
    "5.2.0": R.FILTERED, "5.2.1": R.SUSPEND, "4.2.1": R.SUSPEND, "5.2.2": R.MAILBOXFULL,
    "4.2.2": R.MAILBOXFULL, "5.2.3": R.EXCEEDLIMIT, "5.2.4": R.SYSTEMERROR,
    "5.3.0": R.SYSTEMERROR, "5.3.1": R.SYSTEMFULL, "4.3.1": R.SYSTEMFULL, "5.3.2": R.NOTACCEPT,
    "5.3.3": R.SYSTEMERROR, "5.3.4": R.MESGTOOBIG, "5.3.5": R.SYSTEMERROR,
    "4.3.2": R.TOOMANYCONN,
    "5.4.0": R.NETWORKERROR, "5.4.1": R.NETWORKERROR, "5.4.2": R.NETWORKERROR, "5.4.3": R.SYSTEMERROR,
    "5.4.4": R.HOSTUNKNOWN, "5.4.5": R.TOOMANYCONN, "5.4.6": R.NETWORKERROR, "5.4.7": R.EXPIRED,
    "4.4.1": R.NETWORKERROR, "4.4.2": R.NETWORKERROR, "4.4.7": R.EXPIRED, "4.4.5": R.TOOMANYCONN,
    "5.5.0": R.SYNTAXERROR, "5.5.3": R.TOOMANYCONN,
    "5.6.0": R.CONTENTERROR,
    "5.7.0": R.SECURITYERROR, "5.7.1": R.SECURITYERROR, "4.7.0": R.BLOCKED, "4.7.1": R.BLOCKED,
    "5.7.8": R.SECURITYERROR, "5.7.9": R.SECURITYERROR, "5.7.11": R.FAILEDSTARTTLS,
    "5.7.23": R.AUTHFAILURE, "5.7.24": R.AUTHFAILURE, "5.7.25": R.REQUIREPTR, "5.7.26": R.AUTHFAILURE,
    "x.5": R.SYNTAXERROR, "x.6": R.CONTENTERROR, "x.7": R.SECURITYERROR, "x.4": R.NETWORKERROR,
    "x.3": R.SYSTEMERROR,
}

# The SMTP command the remote refused, when the text says nothing more telling.
COMMAND_RULES: dict[str, R] = {
    "CONN": R.BLOCKED,
    "HELO": R.BLOCKED,
    "EHLO": R.BLOCKED,
    "STARTTLS": R.FAILEDSTARTTLS,
    "AUTH": R.SECURITYERROR,
    "MAIL": R.REJECTED,
    "RCPT": R.USERUNKNOWN,
    "DATA": R.FILTERED,
}

# (refused command, reason from the words) → what it really means.
COMMAND_OVERRIDES: dict[tuple[str, R], R] = {
    ("MAIL", R.USERUNKNOWN): R.REJECTED,
    ("MAIL", R.HOSTUNKNOWN): R.REJECTED,
    ("CONN", R.SECURITYERROR): R.BLOCKED,
    ("CONN", R.REJECTED): R.BLOCKED,
    ("CONN", R.USERUNKNOWN): R.BLOCKED,
    ("HELO", R.SECURITYERROR): R.BLOCKED,
    ("HELO", R.HOSTUNKNOWN): R.BLOCKED,
    ("HELO", R.USERUNKNOWN): R.BLOCKED,
}

# A status for reports that carry none (Sisimai's X.0.9NN pseudo codes).
PSEUDO_STATUS: dict[R, str] = {
    R.UNDEFINED: "0.900", R.REQUIREPTR: "0.901", R.AUTHFAILURE: "0.902", R.BADREPUTATION: "0.903",
    R.FILTERED: "0.910", R.USERUNKNOWN: "0.911", R.HOSTUNKNOWN: "0.912", R.HASMOVED: "0.916",
    R.REJECTED: "0.918", R.NORELAYING: "0.920", R.SUSPEND: "0.921", R.MAILBOXFULL: "0.922",
    R.EXCEEDLIMIT: "0.923", R.SYSTEMFULL: "0.924", R.SYSTEMERROR: "0.930", R.NOTACCEPT: "0.932",
    R.MESGTOOBIG: "0.934", R.SYNTAXERROR: "0.935", R.MAILERERROR: "0.939", R.NETWORKERROR: "0.944",
    R.TOOMANYCONN: "0.945", R.SPEEDING: "0.946", R.EXPIRED: "0.947", R.NOTCOMPLIANTRFC: "0.948",
    R.SUPPRESSED: "0.949", R.SPAMDETECTED: "0.950", R.VIRUSDETECTED: "0.951", R.POLICYVIOLATION: "0.952",
    R.CONTENTERROR: "0.960", R.SECURITYERROR: "0.970", R.BLOCKED: "0.971", R.FAILEDSTARTTLS: "0.974",
    R.ONHOLD: "0.901",
}

_COMPILED: tuple[tuple[R, re.Pattern[str], tuple[str, ...], tuple[str, ...] | None], ...] = tuple(
    (rule.reason, re.compile(rule.pattern), tuple(s for s in rule.statuses.split(",") if s),
     T.required_words(rule.pattern))
    for rule in TEXT_RULES
)
_SPACES = re.compile(r"\s+")


def normalize(text: str) -> str:
    """Lower-case and collapse white space (MTAs wrap diagnostics at arbitrary places)."""
    return _SPACES.sub(" ", text).strip().lower()


def from_text(text: str, status: str = "") -> R | None:
    """The first TEXT_RULES row that matches, or None."""
    if not text:
        return None
    for reason, pattern, statuses, words in _COMPILED:
        if statuses and status and not status.startswith(statuses):
            continue
        if words is not None:
            for word in words:
                if word in text:
                    break
            else:
                continue
        if pattern.search(text):
            return reason
    return None


def from_status(status: str) -> R | None:
    """The RFC 3463 meaning of a status code, or None when the code says nothing specific."""
    if not status or status[:1] not in "45":
        return None
    found = STATUS_RULES.get(status)
    if found is not None:
        return found
    parts = status.split(".")
    if len(parts) == 3 and parts[1] != "0":
        return STATUS_RULES.get("x." + parts[1])
    return None


def decide(status: str, text: str, command: str = "") -> R:
    """The reason for one recipient from its status code, the diagnostic text and the refused SMTP command."""
    return decide_normalized(status, normalize(text), command)[0]


def decide_normalized(status: str, norm: str, command: str = "") -> tuple[R, R | None]:
    """decide() on normalized text; also returns what the words alone said (None: nothing known)."""
    by_text = from_text(norm, status)
    return _decide(status, norm, command, by_text), by_text


def _decide(status: str, norm: str, command: str, by_text: R | None) -> R:
    first = STATUS_FIRST.get(status)
    if first is not None and (by_text is None or by_text not in TEXT_OVER_STATUS):
        return first
    if by_text is not None:
        # The same words name someone else at another step: an unknown "user" at MAIL FROM is our sender,
        # a refusal right after connecting is about our IP.
        if by_text is R.USERUNKNOWN and status.startswith("5.7.") and "user unknown" in norm:
            return R.FILTERED  # "user unknown" under a policy code: the recipient's filter refused us
        return COMMAND_OVERRIDES.get((command.upper(), by_text), by_text)
    # A code with a specific subject (5.6.0 content, 5.7.x security) says more than a bare "rejected".
    by_status = from_status(status)
    if by_status is not None and status[1:3] != ".0":
        return by_status
    if REFUSAL.search(norm):
        return REFUSAL_BY_COMMAND.get(command.upper(), R.BLOCKED)
    if by_status is not None:
        return by_status
    by_command = COMMAND_RULES.get(command.upper())
    if by_command is not None:
        return by_command
    return R.ONHOLD if status else R.UNDEFINED


def pseudo_status(reason: R, permanent: bool = True) -> str:
    """A status for a report that gave none: X.0.9NN, with 4 when the failure is not final (a 4xx, a delay)."""
    return f"{'5' if permanent else '4'}.{PSEUDO_STATUS.get(reason, '0.900')}"
