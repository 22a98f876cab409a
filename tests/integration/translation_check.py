# kefu: finds the customer's lines that are not in the customer's language. A line is
# translated when it is an instance of one of the catalogue's translations (its printf
# slots filled) and each slot holds data the session carried (names, reasons, paths, what
# the system reported), a number, or again a translated line. Anything else is text the
# program wrote that no translation produced. SPDX-License-Identifier: MIT
#
#   catalogue = Catalogue(path_to_po)
#   catalogue.untranslated(lines, data)       -> [the lines that fail]
import re

# One printf conversion: an optional argument number, flags, width, precision, length, kind.
CONVERSION = re.compile(r"%(?:(\d+)\$)?[-+ #0]*\d*(?:\.\d+)?(hh|h|ll|l|z|j|t|L)?"
                        r"([diouxXfeEgGcsp%])")


def _unquote(text):
    escapes = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}
    return re.sub(r"\\(.)", lambda m: escapes.get(m.group(1), m.group(1)), text)


def read_translations(path):
    """Every msgstr (each plural form) of a PO file, as text; the header and fuzzy ones left."""
    translations, current, key, is_fuzzy = [], {}, None, False

    def flush():
        if current.get("msgid") and not is_fuzzy:
            translations.extend(v for k, v in current.items() if k.startswith("msgstr") and v)

    with open(path, encoding="utf-8") as po:
        for raw in po:
            line = raw.strip()
            if not line:
                flush()
                current, key, is_fuzzy = {}, None, False
            elif line.startswith("#,"):
                is_fuzzy = "fuzzy" in line
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):
                current[key] += _unquote(line[1:-1])
            else:
                key, _, value = line.partition(" ")
                current[key] = _unquote(value.strip()[1:-1])
    flush()
    return translations


class Template:
    """A translation as literal words and slots ("s" for text, "n" for a number)."""

    def __init__(self, text):
        self.text = text
        self.tokens, pos = [], 0
        for m in CONVERSION.finditer(text):
            if m.start() > pos:
                self.tokens.append(("lit", text[pos:m.start()]))
            if m.group(3) == "%":
                self.tokens.append(("lit", "%"))
            else:
                self.tokens.append(("s" if m.group(3) == "s" else "n", None))
            pos = m.end()
        if pos < len(text):
            self.tokens.append(("lit", text[pos:]))
        # The more of its own words, the more a match says: tried first.
        self.weight = sum(len(t[1].strip()) for t in self.tokens if t[0] == "lit")

    def fits(self, text, is_slot_ok, i=0, pos=0):
        """Whether text is this translation with every slot's value accepted by is_slot_ok."""
        if i == len(self.tokens):
            return pos == len(text)
        kind, literal = self.tokens[i]
        if kind == "lit":
            return text.startswith(literal, pos) and self.fits(text, is_slot_ok, i + 1,
                                                                 pos + len(literal))
        # Every place the slot could end: before each occurrence of the next words.
        following = self.tokens[i + 1][1] if i + 1 < len(self.tokens) and \
            self.tokens[i + 1][0] == "lit" else None
        if i + 1 == len(self.tokens):
            ends = [len(text)]
        elif following is None:
            ends = range(pos + 1, len(text) + 1)
        else:
            ends = [m.start() for m in re.finditer(re.escape(following), text)
                    if m.start() > pos]
        for end in ends:
            value = text[pos:end]
            if kind == "n" and not re.fullmatch(r"-?[\d.]+", value):
                continue
            if (kind == "n" or is_slot_ok(value)) and self.fits(text, is_slot_ok, i + 1, end):
                return True
        return False


class Catalogue:
    def __init__(self, po_path):
        texts = set()
        for translation in read_translations(po_path):
            # A translation of several lines is seen one line at a time.
            for part in translation.split("\n"):
                if part.strip():
                    texts.add(part.strip())
        self.templates = sorted((Template(t) for t in texts), key=lambda t: -t.weight)

    def is_translated(self, text, data, depth=0):
        text = text.strip()
        if not text or text in data or not re.search(r"[A-Za-z]", text):
            return True
        if depth > 4:
            return False
        # A list ("view, files") is translated when each of its items is.
        if ", " in text and all(self.is_translated(item, data, depth + 1)
                                for item in text.split(", ")):
            return True
        return any(template.fits(text, lambda value: self.is_translated(value, data, depth + 1))
                   for template in self.templates)

    def untranslated(self, lines, data):
        data = {d.strip() for d in data if d and d.strip()}
        return [line for line in lines if not self.is_translated(line, data)]


def summary_lines(markdown):
    """The Markdown summary's lines as the customer reads them: no markup, no times."""
    lines = []
    for line in markdown.splitlines():
        line = re.sub(r"^#+ ", "", line)
        line = re.sub(r"^[-\u2022] \d\d:\d\d:\d\d ", "", line)
        line = line.replace("**", "")
        line = re.sub(r"\\(.)", r"\1", line)
        if line.strip():
            lines.append(line)
    return lines


def html_lines(page):
    """The summary's web page as the customer reads it: the text of its title and elements."""
    from html.parser import HTMLParser

    class Text(HTMLParser):
        def __init__(self):
            super().__init__()
            self.parts, self.skip = [], 0

        def handle_starttag(self, tag, attrs):
            self.skip += tag == "style"
            if tag in ("p", "h1", "h2", "tr", "title", "br"):
                self.parts.append("\n")

        def handle_endtag(self, tag):
            self.skip -= tag == "style"
            if tag in ("td",):
                self.parts.append("\n")

        def handle_data(self, data):
            if not self.skip:
                self.parts.append(data)

    parser = Text()
    parser.feed(page)
    return [line for line in "".join(parser.parts).splitlines()
            if line.strip() and not re.fullmatch(r"\d\d:\d\d:\d\d", line.strip())]
