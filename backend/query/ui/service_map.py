"""The service map's layout: services in columns by call depth, calls as arrows with counts.

Computed on the server so the page is plain SVG (no layout library, no
script).  A service's column is the length of the longest call chain that
reaches it from a service nobody calls; calls that go back to an earlier
column (cycles) are drawn as curves below the boxes.
"""

from __future__ import annotations

from dataclasses import dataclass

from backend.storage.api import DependencyLink

NODE_WIDTH = 170
NODE_HEIGHT = 40
COLUMN_GAP = 110
ROW_GAP = 40
MARGIN = 30


@dataclass(frozen=True, slots=True)
class Node:
    name: str
    x: int
    y: int


@dataclass(frozen=True, slots=True)
class Edge:
    parent: str
    child: str
    calls: int
    path: str  # SVG path data
    label_x: int
    label_y: int


@dataclass(frozen=True, slots=True)
class GraphLayout:
    width: int
    height: int
    nodes: list[Node]
    edges: list[Edge]


def _columns(links: list[DependencyLink], names: list[str]) -> dict[str, int]:
    """Longest-path depth from the uncalled services, bounded by the number of services (cycles)."""
    called = {link.child for link in links if link.child != link.parent}
    column = {name: 0 for name in names}
    for _ in range(len(names)):
        changed = False
        for link in links:
            if link.parent == link.child or link.child not in called:
                continue
            wanted = column[link.parent] + 1
            if wanted > column[link.child] and wanted < len(names):
                column[link.child] = wanted
                changed = True
        if not changed:
            break
    return column


def layout(links: list[DependencyLink]) -> GraphLayout:
    names = sorted({link.parent for link in links} | {link.child for link in links})
    column = _columns(links, names)
    by_column: dict[int, list[str]] = {}
    for name in names:
        by_column.setdefault(column[name], []).append(name)
    positions: dict[str, Node] = {}
    for col, members in by_column.items():
        for row, name in enumerate(members):
            positions[name] = Node(
                name, MARGIN + col * (NODE_WIDTH + COLUMN_GAP), MARGIN + row * (NODE_HEIGHT + ROW_GAP)
            )
    tallest = max((len(members) for members in by_column.values()), default=0)
    height = 2 * MARGIN + tallest * (NODE_HEIGHT + ROW_GAP) + 60
    width = 2 * MARGIN + (max(by_column, default=0) + 1) * (NODE_WIDTH + COLUMN_GAP)
    edges = [_edge(link, positions[link.parent], positions[link.child]) for link in links]
    return GraphLayout(width, height, [positions[name] for name in names], edges)


def _edge(link: DependencyLink, parent: Node, child: Node) -> Edge:
    if child.x > parent.x:
        x1, y1 = parent.x + NODE_WIDTH, parent.y + NODE_HEIGHT // 2
        x2, y2 = child.x, child.y + NODE_HEIGHT // 2
        middle = (x1 + x2) // 2
        path = f"M{x1},{y1} C{middle},{y1} {middle},{y2} {x2 - 6},{y2}"
        return Edge(link.parent, link.child, link.call_count, path, middle, (y1 + y2) // 2 - 6)
    # Same or earlier column (a cycle or a self-call): a loop under the boxes.
    x1, y1 = parent.x + NODE_WIDTH // 2 - 20, parent.y + NODE_HEIGHT
    x2, y2 = child.x + NODE_WIDTH // 2 + 20, child.y + NODE_HEIGHT
    low = max(y1, y2) + 45
    path = f"M{x1},{y1} C{x1},{low} {x2},{low} {x2},{y2 + 6}"
    return Edge(link.parent, link.child, link.call_count, path, (x1 + x2) // 2, low - 4)
