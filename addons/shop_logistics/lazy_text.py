"""Messages stored untranslated and translated for whoever reads them.

Holds and other notes are often written by scheduled jobs running as the superuser (English), yet read by
clerks in Chinese. They are therefore kept as the source message of an ``_lt(...)`` term with its arguments
(JSON) and translated when shown, in the reader's language. Plain strings are kept as they are.
"""

from odoo.tools.translate import LazyGettext, get_translation

SEPARATOR = "; "


def encode(value):
    """JSON-ready form of a str, a LazyGettext (with lazy or plain arguments) or a list of them; a dict
    already in that form (``engines.messages.Message.to_data()``) is kept as it is."""
    if value is None or value is False:
        return False
    if isinstance(value, LazyGettext):
        args = value._args
        if isinstance(args, dict):
            encoded_args = {key: encode_arg(arg) for key, arg in args.items()}
        else:
            encoded_args = [encode_arg(arg) for arg in args]
        return {"source": value._source, "module": value._module, "args": encoded_args}
    if isinstance(value, (list, tuple)):
        return {"items": [encode(item) for item in value]}
    if isinstance(value, dict) and ("source" in value or "text" in value or "items" in value):
        # already in the stored form, e.g. an engine message's ``to_data()``
        return value
    return {"text": str(value)}


def encode_arg(arg):
    if isinstance(arg, (LazyGettext, list, tuple)):
        return encode(arg)
    return arg


def render(data, lang):
    """The text of an encoded message in ``lang``."""
    if not data:
        return ""
    if not isinstance(data, dict):
        return str(data)
    if "text" in data:
        return data["text"]
    if "items" in data:
        return SEPARATOR.join(render(item, lang) for item in data["items"])
    args = data.get("args") or ()
    if isinstance(args, dict):
        args = {key: render_arg(arg, lang) for key, arg in args.items()}
    else:
        args = tuple(render_arg(arg, lang) for arg in args)
    return get_translation(data.get("module") or "base", lang or "en_US", data.get("source", ""), args)


def render_arg(arg, lang):
    return render(arg, lang) if isinstance(arg, dict) else arg
