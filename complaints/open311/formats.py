"""GeoReport v2 bodies in JSON and XML, from one Python structure per response.

XML follows the spec's shapes: a list of `request` elements under `service_requests`, of
`service` under `services`, `attribute` under `attributes` with `value` under `values`,
`error` under `errors`, `format` under `formats` (discovery). UTF-8 with its declaration.
"""

import json
from xml.etree import ElementTree as ET

from flask import Response

# Which child element name a list takes, by the list's own element name.
ITEM_NAMES = {
    "service_requests": "request",
    "services": "service",
    "attributes": "attribute",
    "values": "value",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
}
CONTENT_TYPES = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _fill(element: ET.Element, value) -> None:
    if isinstance(value, dict):
        for key, child in value.items():
            _fill(ET.SubElement(element, key), child)
    elif isinstance(value, list):
        item_name = ITEM_NAMES.get(element.tag, "item")
        for item in value:
            _fill(ET.SubElement(element, item_name), item)
    else:
        element.text = _text(value)


def to_xml(root: str, value) -> bytes:
    element = ET.Element(root)
    _fill(element, value)
    return ET.tostring(element, encoding="UTF-8", xml_declaration=True)


def respond(fmt: str, root: str, value, status: int = 200) -> Response:
    """`value` is the JSON body; in XML it becomes the children of `root`."""
    if fmt == "xml":
        body = to_xml(root, value)
    else:
        body = json.dumps(value, ensure_ascii=False).encode("utf-8")
    return Response(body, status=status, content_type=CONTENT_TYPES[fmt])


def errors(fmt: str, status: int, descriptions: list[str]) -> Response:
    return respond(
        fmt,
        "errors",
        [{"code": status, "description": str(d)} for d in descriptions],
        status=status,
    )
