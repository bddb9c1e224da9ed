"""Tags found in buyer remarks and seller memos (指定顺丰, 礼物, 加急, 不要发韵达 ...), without the ORM.

Longer keywords win and consume their text, so "不要发韵达" is read as the exclusion and never also as
a tag whose keyword is "发韵达".
"""

import re

KEYWORD_SEPARATORS = re.compile(r"[,，;；\n]+")


def split_keywords(keywords):
    return [word.strip() for word in KEYWORD_SEPARATORS.split(keywords or "") if word.strip()]


def match_tags(text, tags):
    """Return the ids of the tags found in ``text``.

    ``tags`` is an iterable of ``(tag_id, keywords)`` where keywords is a list of strings.
    Matching ignores case and white space.
    """
    remaining = re.sub(r"\s+", "", text or "").casefold()
    if not remaining:
        return []
    candidates = sorted(
        ((keyword.casefold().replace(" ", ""), tag_id) for tag_id, keywords in tags for keyword in keywords),
        key=lambda candidate: -len(candidate[0]),
    )
    found = []
    for keyword, tag_id in candidates:
        if keyword and keyword in remaining:
            remaining = remaining.replace(keyword, "\x00")
            if tag_id not in found:
                found.append(tag_id)
    return found
