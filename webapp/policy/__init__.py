"""Who may do what, in one package (SPEC §4.1).

- `permissions`: the names of what can be asked (`Permission`), `Mode`, `Decision`, `SectionOf`;
- `decide`: `decide(actor, permission, resource)`, the only place a rule is written;
- `queries`: the same rules as SQL, for lists and counts;
- `loaders`: load, decide, record, or answer 404, in one call per resource;
- `explain`: the "who can see this document" panel, from `decide`.
"""

from webapp.policy.decide import decide
from webapp.policy.permissions import Decision, Mode, Permission, SectionOf

__all__ = ["Decision", "Mode", "Permission", "SectionOf", "decide"]
