"""The dependency graph as a tree, built lazily.

Roots are the direct dependencies. A package reached again is shown expanded
once and marked `(*)` elsewhere (`o` jumps to the expanded one); cycles are cut
and marked. Inverted, the tree shows who depends on the selected package.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.widgets import Tree
from textual.widgets._tree import TreeNode

from tui.model import ReportModel
from tui.widgets.text import badge, safe


@dataclass(frozen=True)
class Entry:
    name: str | None  # None for a label-only node
    ancestors: tuple[str, ...] = ()
    ref: bool = False  # a later occurrence of an expanded package


class GraphTree(Tree[Entry]):
    BINDINGS = [("o", "jump_to_primary", "jump to (*)")]

    def __init__(self, model: ReportModel, **kwargs: object) -> None:
        super().__init__(Text("dependencies"), Entry(None), **kwargs)  # type: ignore[arg-type]
        self.model = model
        self.inverted: str | None = None  # the package whose dependents are shown
        self.sort_by_score = False
        self.rule: str | None = None
        self.primary: dict[str, TreeNode[Entry]] = {}
        self.show_root = False
        self.guide_depth = 3

    def rebuild(self) -> None:
        self.clear()
        self.primary = {}
        root = self.root
        if self.rule:
            names = [n for n in sorted(self.model.packages) if self.model.passes(n, self.rule)]
            root.set_label(Text(f"filter {self.rule}: {len(names)} packages"))
            for name in self._ordered(names):
                self._add(root, name, ())
        elif self.inverted:
            root.set_label(Text("dependents of ") + safe(self.inverted))
            self._add(root, self.inverted, ())
        else:
            root.set_label(Text("direct dependencies"))
            for name in self._ordered(self.model.roots):
                self._add(root, name, ())
        root.expand()

    def _ordered(self, names: list[str]) -> list[str]:
        if not self.sort_by_score:
            return sorted(names)
        return sorted(
            names, key=lambda n: (self.model.score(n) is not None, self.model.score(n) or 0, n)
        )

    def _label(self, name: str, suffix: str = "") -> Text:
        package = self.model.packages[name]
        label = badge(self.model.score(name), self.model.worst(name))
        label.append(" ")
        label.append_text(safe(package["name"], 80, "bold"))  # the id may be name@version
        label.append_text(safe(f" {package['version'] or '-'}", 40, "dim"))
        if suffix:
            label.append(f" {suffix}", style="italic dim")
        return label

    def _add(self, parent: TreeNode[Entry], name: str, ancestors: tuple[str, ...]) -> None:
        if name in ancestors:
            parent.add_leaf(self._label(name, "(cycle)"), Entry(name, ancestors, ref=True))
            return
        if name in self.primary:
            parent.add_leaf(self._label(name, "(*)"), Entry(name, ancestors, ref=True))
            return
        kids = self._next(name)
        node = parent.add(self._label(name), Entry(name, ancestors), allow_expand=bool(kids))
        self.primary[name] = node

    def _next(self, name: str) -> list[str]:
        return self.model.parents[name] if self.inverted else self.model.children[name]

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[Entry]) -> None:
        self._populate(event.node)

    def _populate(self, node: TreeNode[Entry]) -> None:
        entry = node.data
        if entry is None or entry.name is None or node.children:
            return
        for child in self._ordered(self._next(entry.name)):
            self._add(node, child, (*entry.ancestors, entry.name))

    def action_jump_to_primary(self) -> None:
        node = self.cursor_node
        if node is None or node.data is None or node.data.name is None:
            return
        self.select_name(node.data.name)

    def select_name(self, name: str) -> bool:
        """Move the cursor to `name`'s expanded node, opening the path to it."""
        target = self.primary.get(name)
        if target is None:
            paths = self.model.paths_to(name, limit=1)
            if not paths or self.rule or self.inverted:
                return False
            node = self.root
            for step in paths[0]:
                match = next((c for c in node.children if c.data and c.data.name == step), None)
                if match is None:
                    return False
                self._populate(match)
                match.expand()
                node = match
            target = self.primary.get(name, node)
        parent = target.parent
        while parent is not None:
            parent.expand()
            parent = parent.parent
        self.call_after_refresh(self._focus_node, target)  # lines exist once laid out
        return True

    def _focus_node(self, node: TreeNode[Entry]) -> None:
        self.move_cursor(node)
        self.scroll_to_node(node)
