# kefu plugin library: certificates' names and validity read from PEM and DER. SPDX-License-Identifier: MIT
"""RFC 5280 section 4.1: Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm,
signature }; TBSCertificate ::= SEQUENCE { [0] version OPTIONAL, serialNumber, signature,
issuer, validity SEQUENCE { notBefore, notAfter }, subject, ... }; a time is UTCTime
(YYMMDDHHMMSSZ, years 50-99 are 19xx) or GeneralizedTime (YYYYMMDDHHMMSSZ). PEM (RFC 7468)
wraps the DER in -----BEGIN CERTIFICATE----- lines with base64 between them."""
import base64
import calendar
import hashlib
import re

PEM = re.compile(r"-----BEGIN (?:TRUSTED )?CERTIFICATE-----(.*?)-----END (?:TRUSTED )?"
                 r"CERTIFICATE-----", re.S)


class BadCertificate(ValueError):
    pass


def _element(der, at):
    """(tag, start of content, end of content) of the DER element at offset AT."""
    if at + 2 > len(der):
        raise BadCertificate("truncated")
    tag, length = der[at], der[at + 1]
    at += 2
    if length & 0x80:
        n = length & 0x7F
        if n == 0 or n > 4 or at + n > len(der):
            raise BadCertificate("bad length")
        length = int.from_bytes(der[at:at + n], "big")
        at += n
    if at + length > len(der):
        raise BadCertificate("truncated")
    return tag, at, at + length


def _time(tag, raw):
    text = raw.decode("ascii", "replace")
    m = re.fullmatch(r"(\d{2}|\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?Z", text)
    if not m or tag not in (0x17, 0x18):
        raise BadCertificate("bad time " + text)
    year = int(m.group(1))
    if tag == 0x17:
        year += 1900 if year >= 50 else 2000
    return calendar.timegm((year, int(m.group(2)), int(m.group(3)), int(m.group(4)),
                            int(m.group(5)), int(m.group(6) or 0), 0, 0, 0))


def validity(der):
    """(not_before, not_after) as Unix times."""
    _, start, end = _element(der, 0)  # Certificate
    tag, at, tbs_end = _element(der, start)  # tbsCertificate
    if tag != 0x30:
        raise BadCertificate("not a certificate")
    tag, s, e = _element(der, at)
    if tag == 0xA0:  # explicit version
        at = e
    for _ in range(3):  # serialNumber, signature, issuer
        _, s, at = _element(der, at)
    tag, s, e = _element(der, at)
    if tag != 0x30:
        raise BadCertificate("no validity")
    t1, s1, e1 = _element(der, s)
    t2, s2, e2 = _element(der, e1)
    return _time(t1, der[s1:e1]), _time(t2, der[s2:e2])


def certificates(text):
    """[(sha256 of the DER, DER)] of every PEM certificate in TEXT; bad base64 raises."""
    out = []
    for block in PEM.findall(text or ""):
        try:
            der = base64.b64decode("".join(block.split()), validate=True)
        except ValueError:
            raise BadCertificate("bad base64")
        out.append((hashlib.sha256(der).hexdigest(), der))
    return out
