"""The service-graph view of the incident page: the catalogue around the affected services as inline SVG.

`service_graph` keeps the services within `hops` dependency hops of an affected one (at most `max_nodes`,
nearest first), lays them out in layers (a service sits one layer below the deepest service that depends on
it: callers on top, their dependencies below) and draws an arrow per ``depends_on`` edge. Affected
services are highlighted and the probable root cause marked; a list repeats it as text. Pure.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Mapping

from aiops.console.markup import Markup, join, tag

NODE_WIDTH, NODE_HEIGHT, GAP_X, GAP_Y = 120, 30, 24, 56


def _neighbourhood(depends_on: Mapping[str, Collection[str]], affected: Collection[str], hops: int,
                   max_nodes: int) -> list[str]:
    """Services within `hops` of an affected one (edges both ways), nearest first, at most `max_nodes`."""
    undirected: dict[str, set[str]] = {}
    for source, targets in depends_on.items():
        for target in targets:
            undirected.setdefault(source, set()).add(target)
            undirected.setdefault(target, set()).add(source)
    seen = dict.fromkeys(sorted(affected), 0)
    queue = deque(sorted(affected))
    while queue and len(seen) < max_nodes:
        service = queue.popleft()
        if seen[service] >= hops:
            continue
        for neighbour in sorted(undirected.get(service, ())):
            if neighbour not in seen and len(seen) < max_nodes:
                seen[neighbour] = seen[service] + 1
                queue.append(neighbour)
    return list(seen)


def _layers(nodes: list[str], depends_on: Mapping[str, Collection[str]]) -> dict[str, int]:
    """Layer of each node: 0 for nodes no kept node depends on, else one below its deepest dependent."""
    kept = set(nodes)
    layer = dict.fromkeys(nodes, 0)
    for _ in range(len(nodes)):  # longest-path relaxation; a cycle stops after len(nodes) rounds
        changed = False
        for source in nodes:
            for target in depends_on.get(source, ()):
                if target in kept and layer[target] < layer[source] + 1 <= len(nodes):
                    layer[target] = layer[source] + 1
                    changed = True
        if not changed:
            break
    return layer


def service_graph(depends_on: Mapping[str, Collection[str]], affected: Collection[str], root_cause: str | None,
                  *, hops: int = 1, max_nodes: int = 40) -> Markup:
    """The SVG view and its text list (see the module docstring)."""
    nodes = _neighbourhood(depends_on, affected, hops, max_nodes)
    if not nodes:
        return tag("p", "No services.", class_="muted")
    layer = _layers(nodes, depends_on)
    rows: dict[int, list[str]] = {}
    for node in nodes:
        rows.setdefault(layer[node], []).append(node)
    widest = max(len(row) for row in rows.values())
    width = widest * (NODE_WIDTH + GAP_X) + GAP_X
    place: dict[str, tuple[float, float]] = {}
    for depth, row in sorted(rows.items()):
        offset = (width - len(row) * (NODE_WIDTH + GAP_X) + GAP_X) / 2
        for index, node in enumerate(sorted(row)):
            place[node] = (offset + index * (NODE_WIDTH + GAP_X), GAP_Y / 2 + depth * (NODE_HEIGHT + GAP_Y))
    height = (max(rows) + 1) * (NODE_HEIGHT + GAP_Y)
    edges = [tag("line", x1=f"{place[s][0] + NODE_WIDTH / 2:.0f}", y1=f"{place[s][1] + NODE_HEIGHT:.0f}",
                 x2=f"{place[t][0] + NODE_WIDTH / 2:.0f}", y2=f"{place[t][1]:.0f}", class_="edge",
                 marker_end="url(#arrow)")
             for s in nodes for t in sorted(depends_on.get(s, ())) if t in place]
    boxes = []
    for node in nodes:
        x, y = place[node]
        kind = "root" if node == root_cause else "affected" if node in affected else "other"
        title = {"root": "probable root cause", "affected": "affected", "other": "not affected"}[kind]
        boxes.append(tag("g", tag("title", f"{node}: {title}"),
                         tag("rect", x=f"{x:.0f}", y=f"{y:.0f}", width=str(NODE_WIDTH), height=str(NODE_HEIGHT),
                             rx="6", class_=f"node {kind}"),
                         tag("text", node[:16], x=f"{x + NODE_WIDTH / 2:.0f}", y=f"{y + 19:.0f}",
                             text_anchor="middle", class_="label"), data_service=node))
    marker = Markup('<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" '
                    'markerHeight="6" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/></marker></defs>')
    summary = (f"Service graph: {len(nodes)} services; affected: {', '.join(sorted(affected))}; "
               f"probable root cause: {root_cause or 'unknown'}")
    svg = tag("svg", tag("title", summary), marker, *edges, *boxes, viewBox=f"0 0 {width:.0f} {height:.0f}",
              width=f"{width:.0f}", height=f"{height:.0f}", role="img", aria_label=summary, class_="chart graph")
    listing = tag("ul", *(tag("li", f"{node} → depends on {', '.join(sorted(depends_on.get(node, ()))) or 'nothing'}"
                                     + (" (probable root cause)" if node == root_cause else
                                        " (affected)" if node in affected else ""))
                          for node in nodes), class_="graph-list")
    legend = tag("p", tag("span", "probable root cause", class_="key root"), " ",
                 tag("span", "affected", class_="key affected"), " ", tag("span", "not affected", class_="key other"),
                 class_="legend")
    return join([svg, legend, tag("details", tag("summary", "As a list"), listing)])
