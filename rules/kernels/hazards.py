"""Hazards HIPIFY passes through silently: inline PTX, warp-size-32 assumptions, dynamic parallelism.

Each detector recognises one shape of syntax and reports a `cuda-hazard` key; what the key
means on each target is the catalog's answer (cuda_hazards.toml). One tree-sitter query,
compiled once per process with the code map's patterns (`PATTERNS`), collects every node any
detector looks at in a single pass over the tree.

On AMD CDNA GPUs a wavefront has 64 lanes. Code that hard-wires 32 (a `0xffffffff` mask,
`threadIdx.x & 31`, a shuffle reduction that starts at offset 16, a ballot kept in 32 bits)
compiles or runs on HIP but covers half the wavefront, so its results are wrong, not slow.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from tree_sitter import Node

from cudaudit.rules.catalog import Catalog
from cudaudit.rules.kernels import syntax
from cudaudit.rules.kernels.code_map import CodeMap
from cudaudit.rules.kernels.hits import CudaHit

HAZARD_DETECTOR = "cuda-hazard"

_BALLOT_CALL = r'(call_expression function: (identifier) @{0} (#match? @{0} "^__(ballot|ballot_sync|activemask|match_any_sync|match_all_sync)$"))'
PATTERNS = r"""
(call_expression
  function: (identifier) @call.fn
  arguments: (argument_list) @call.args
  (#match? @call.fn "^__(\\w+_sync|syncwarp|popc|ffs|clz|brev)$"))
(init_declarator
  declarator: (identifier) @const.name
  value: [(number_literal) (unary_expression) (parenthesized_expression)] @const.value)
(declaration
  type: (_) @ballot.type
  declarator: (init_declarator value: """ + _BALLOT_CALL.format("ballot.fn") + r""" @ballot.value))
(assignment_expression left: (identifier) @assign.name operator: "=" right: """ + _BALLOT_CALL.format("assign.fn") + r""" @assign.value)
(binary_expression
  left: (_) @lane.left
  right: (number_literal) @lane.n
  (#match? @lane.n "^(31|32|5|0[xX]1[fF])[uU]?$")) @lane.expr
(preproc_def name: (identifier) @const.name value: (preproc_arg) @const.value)
(enumerator name: (identifier) @const.name value: (number_literal) @const.value)
(optional_parameter_declaration declarator: (identifier) @const.name default_value: (number_literal) @const.value)
(for_statement) @loop
(array_declarator size: (binary_expression) @array.size)
(kernel_call_syntax) @launch
"""
_DECLARED = """
(declaration type: (_) @type declarator: [(identifier) @name (init_declarator declarator: (identifier) @name)])
"""

_UINT32 = r"(?:uint32_t|unsigned(?:\s+int)?)"
_FULL_MASK = re.compile(
    r"\(?\s*(?:0[xX][fF]{8}|4294967295|~\s*0[xX]?0*[uU]|UINT32_MAX|UINT_MAX"
    rf"|{_UINT32}\s*\(\s*-\s*1\s*\)|\(\s*{_UINT32}\s*\)\s*\(?\s*-\s*1\s*\)?"
    rf"|static_cast\s*<\s*{_UINT32}\s*>\s*\(\s*-\s*1\s*\))[uU]?\s*\)?"
)
"""A 32-bit all-ones mask: `0xffffffff`, `~0u`, `UINT_MAX`, `uint32_t(-1)`, `(unsigned)-1`."""
_INT_MASK = re.compile(r"\(?\s*(?:-\s*1|~\s*0)\s*\)?")
"""`-1`, `~0`: all ones in an `int`, which HIP's `_sync` templates reject as they reject any mask
narrower than 64 bits (a static assert on the mask's size)."""
_WARP_NAME = re.compile(r"warp", re.I)
_ASM = re.compile(rb"(?<![A-Za-z0-9_])(?:asm|__asm__|__asm)(?:[ \t]+(?:volatile|__volatile__|goto|inline))*(?=[ \t\n]*\()")
_PTX = re.compile(
    rb"\b[a-z][a-z0-9]*\.(?:[usbf](?:8|16|32|64|128)(?:x[24])?|e[45]m[23]|bf16(?:x2)?|tf32|pred|global|shared"
    rb"|local|const|param|sync|aligned|nc|gpu|sys|cta|cluster|relaxed|release|acquire|wide|lo|hi|rn|rz|rm|rp"
    rb"|ftz|sat|approx|full|async|bulk|gl|x[124])\b"
    rb"|%%?(?:laneid|warpid|nwarpid|smid|nsmid|tid|ntid|ctaid|nctaid|clock64|clock|globaltimer|lanemask_\w+)"
    rb"|[(\s\"](?:exit|trap|brkpt);"
)
"""PTX in an `asm` statement: typed instructions (`mov.u32`, `ld.global.nc`, `cp.async.bulk`),
special registers (`%%laneid`), `exit;`. GCN, x86, Arm and RISC-V assembly have none of them."""
_ASM_TEXT = 600
"""How far after `asm(` to look for its instructions."""
_BALLOTS = frozenset({"__ballot_sync", "__ballot", "__activemask", "__match_any_sync", "__match_all_sync"})
_BITS_32 = frozenset({"__popc", "__ffs", "__clz", "__brev"})
_INT_32 = frozenset(
    {"int", "unsigned", "unsigned int", "signed", "signed int", "uint", "uint32_t", "int32_t", "std::uint32_t", "std::int32_t"}
)
_LANE_OPERATORS = {"&": ("31", "0x1f"), "%": ("32",), "/": ("32",), ">>": ("5",)}
_SHUFFLE = re.compile(rb"__shfl")
_CALLEE_BEFORE = re.compile(rb"(\w+)\s*\Z")
"""The name a template argument list follows (`warp_reduce_max` in `warp_reduce_max<warp_size>(`)."""
_CALLEE_WINDOW = 120
_WARP_FUNCTION = re.compile(rb"(?i)warp|shfl|shuffle")
_TILE_OF_32 = re.compile(rb"(?:tiled_partition|thread_block_tile)\s*<\s*32\s*>")

Report = Callable[[str, int, int], "CudaHit | None"]


def hazards(
    found: syntax.QueryMatches,
    root: Node,
    source: bytes,
    code: CodeMap,
    catalog: Catalog,
    mask_droppers: frozenset[str] = frozenset(),
) -> Iterator[CudaHit]:
    def report(key: str, start: int, end: int) -> CudaHit | None:
        entry = catalog.lookup(HAZARD_DETECTOR, key)
        return CudaHit(entry, start, end) if entry is not None and code.is_code(start, end) else None

    full_masks = _full_mask_names(found)
    checks = (
        _inline_asm(source, report),
        _full_masks(found, full_masks, report, mask_droppers),
        _narrow_ballots(found, root, report),
        _lane_math(found, report),
        _warp_size_constants(found, source, report),
        _shuffle_loops(found, source, report),
        _shared_per_warp(found, report),
        _device_launches(found, report),
        _grid_syncs(source, report),
    )
    for check in checks:
        yield from (hit for hit in check if hit is not None)


def _inline_asm(source: bytes, report: Report) -> Iterator[CudaHit | None]:
    """`asm volatile("mov.u32 %0, %%laneid;" ...)`: PTX, which HIP's compiler cannot assemble."""
    if b"asm" not in source:
        return
    for match in _ASM.finditer(source):
        if _PTX.search(source, match.end(), _statement_end(source, match.end())):
            yield report("asm", match.start(), match.end())


def _statement_end(source: bytes, start: int) -> int:
    """Where the `asm(...)` that starts at `start` ends: its closing parenthesis, or a limit."""
    depth = 0
    limit = min(len(source), start + _ASM_TEXT)
    for index in range(start, limit):
        byte = source[index]
        if byte == 40:  # (
            depth += 1
        elif byte == 41:  # )
            depth -= 1
            if depth == 0:
                return index
    return limit


def _full_mask_names(found: syntax.QueryMatches) -> set[str]:
    """Macros, constants and variables set to a 32-bit all-ones mask (`#define FULL_MASK 0xffffffff`)."""
    return {syntax.text(m["const.name"]) for m in found["const"] if _is_full_mask(m["const.value"])}


def _is_full_mask(node: Node) -> bool:
    return _FULL_MASK.fullmatch(syntax.text(node).strip()) is not None


def _full_masks(
    found: syntax.QueryMatches, names: set[str], report: Report, mask_droppers: frozenset[str]
) -> Iterator[CudaHit | None]:
    """`__shfl_xor_sync(0xffffffff, v, 16)`: HIP's `_sync` builtins take a 64-bit mask, unless the
    project's porting layer drops the mask (`mask_droppers`) before HIP sees it. A variable declared
    in 32 bits fails HIP's 64-bit check whatever value it holds (`uint32_t m = 3 << lane`)."""
    declarations: dict[int, dict[str, list[tuple[int, str]]]] = {}
    for match in found["call"]:
        function = syntax.text(match["call.fn"])
        if not (function.endswith("_sync") or function == "__syncwarp") or function in mask_droppers:
            continue
        arguments = match["call.args"].named_children
        if not arguments:
            continue
        mask = arguments[0]
        narrow = function.endswith("_sync") and _INT_MASK.fullmatch(syntax.text(mask).strip()) is not None
        named = mask.type == "identifier" and (syntax.text(mask) in names or _declared_32_bit(mask, declarations))
        if narrow or _is_full_mask(mask) or named:
            yield report("full-mask", mask.start_byte, mask.end_byte)


def _declared_32_bit(name: Node, declarations: dict[int, dict[str, list[tuple[int, str]]]]) -> bool:
    """Whether the variable `name` is declared in 32 bits (`uint32_t m = ...`, `int groupMask`) in the
    body of the function around it: HIP's `_sync` templates assert a 64-bit mask whatever its value.
    The last declaration before the use decides; `declarations` keeps each function's, by its start,
    read once. Parameters are not followed: a compatibility shim that restates CUDA's own signature
    (`__shfl_sync(unsigned mask, half var, ...)`) declares one, and whether such a shim is compiled
    for HIP at all is decided by macros this reading does not follow."""
    function = _ancestor(name, "function_definition")
    if function is None:
        return False
    found = declarations.get(function.start_byte)
    if found is None:
        found = declarations[function.start_byte] = {}
        for match in syntax.matches(_DECLARED, function):
            declared = match["name"][0]
            found.setdefault(syntax.text(declared), []).append((declared.start_byte, _type_text(match["type"][0])))
    before = [declared for declared in found.get(syntax.text(name), ()) if declared[0] < name.start_byte]
    return bool(before) and max(before)[1] in _INT_32


def _narrow_ballots(found: syntax.QueryMatches, root: Node, report: Report) -> Iterator[CudaHit | None]:
    """`unsigned m = __ballot_sync(...)`, `__popc(__ballot_sync(...))`: HIP's ballot is 64 bits."""
    for match in found["ballot"]:
        if _type_text(match["ballot.type"]) in _INT_32:
            yield report("ballot-32", match["ballot.value"].start_byte, match["ballot.value"].end_byte)
    if found["assign"]:
        declared = {
            syntax.text(m["name"][0]): _type_text(m["type"][0]) for m in syntax.matches(_DECLARED, root)
        }
        for match in found["assign"]:
            value = match["assign.value"]
            if declared.get(syntax.text(match["assign.name"])) in _INT_32:
                yield report("ballot-32", value.start_byte, value.end_byte)
    for match in found["call"]:
        arguments = match["call.args"].named_children
        if syntax.text(match["call.fn"]) in _BITS_32 and arguments and _is_ballot(arguments[0]):
            yield report("ballot-32", match["call.fn"].start_byte, match["call.args"].end_byte)


def _is_ballot(node: Node) -> bool:
    function = node.child_by_field_name("function") if node.type == "call_expression" else None
    return function is not None and syntax.text(function) in _BALLOTS


def _type_text(node: Node) -> str:
    return " ".join(syntax.text(node).split())


def _lane_math(found: syntax.QueryMatches, report: Report) -> Iterator[CudaHit | None]:
    """`threadIdx.x & 31`, `threadIdx.x % 32`, `threadIdx.x / 32`, `threadIdx.x >> 5`: lanes and
    warps of 32."""
    for match in found["lane"]:
        expression = match["lane.expr"]
        operator = expression.child_by_field_name("operator")
        number = syntax.text(match["lane.n"]).rstrip("uU").lower()
        if operator is None or number not in _LANE_OPERATORS.get(syntax.text(operator), ()):
            continue
        if _names_thread_index(match["lane.left"]) and not _in_tiles_of_32(expression):
            yield report("lane-math", expression.start_byte, expression.end_byte)


def _in_tiles_of_32(node: Node) -> bool:
    """Inside a function that splits its block into explicit tiles of 32 threads
    (`cg::tiled_partition<32>(block)`): its lanes and warps of 32 are those tiles', which a
    64-lane wavefront holds two of."""
    function = _ancestor(node, "function_definition")
    return function is not None and _TILE_OF_32.search(function.text or b"") is not None


def _names_thread_index(node: Node) -> bool:
    """`threadIdx.x`, `(threadIdx.x + 1)`: a thread's own index, so the 32 is a warp's width.

    A variable (`tid / 32`) is not enough: in quantised kernels the 32 is as often a block of
    32 values as a warp.
    """
    return node.type in ("field_expression", "parenthesized_expression") and "threadIdx" in syntax.text(node)


def _warp_size_constants(found: syntax.QueryMatches, source: bytes, report: Report) -> Iterator[CudaHit | None]:
    """`#define WARP_SIZE 32`, `constexpr int kWarpSize = 32`, `template <int WARP = 32>`.

    Not where the 32 is an explicit design rather than an assumption: a constant the code hands
    on as the width of its warp operations (`__shfl_xor_sync(m, v, o, WARP_SIZE)`,
    `warp_reduce_max<warp_size>(v)`, `template <int width = WARP_SIZE>` whose `width` the shuffles
    pass) works in groups of 32 lanes, which a 64-lane wavefront holds two of; and one in host
    code only sizes a launch (the kernel's own lane arithmetic is checked where it is)."""
    widths: set[str] | None = None
    widths_read = False
    for name, value in ((m["const.name"], m["const.value"]) for m in found["const"]):
        identifier = syntax.text(name)
        if not (_WARP_NAME.search(identifier) and syntax.text(value).strip().strip("()").rstrip("uU") == "32"):
            continue
        if _in_host_function(name):
            continue
        if not widths_read:
            widths, widths_read = _shuffle_widths(found), True
        if _passed_as_width(identifier, source, widths):
            continue
        yield report("warp-size-constant", value.start_byte, value.end_byte)


def _in_host_function(node: Node) -> bool:
    """Inside a function that is neither `__global__` nor `__device__`: host code."""
    function = _ancestor(node, "function_definition")
    if function is None:
        return False
    qualifiers = {child.type for child in function.children}
    return not qualifiers & {"__global__", "__device__"}


def _shuffle_widths(found: syntax.QueryMatches) -> set[str] | None:
    """The names shuffles in the file pass as their width (the fourth argument); None where some
    shuffle of the file passes none (it spans the whole wavefront, whatever a constant says)."""
    widths = set()
    for match in found["call"]:
        if not syntax.text(match["call.fn"]).startswith("__shfl"):
            continue
        arguments = match["call.args"].named_children
        if len(arguments) < 4:
            return None
        widths.add(syntax.text(arguments[3]).strip())
    return widths


def _passed_as_width(name: str, source: bytes, widths: set[str] | None) -> bool:
    """`name` is a shuffle's width, a warp function's template argument (`warp_reduce_sum<name>(`),
    or the default of a template parameter that the shuffles pass as their width; never in a file
    with a shuffle that passes no width."""
    if widths is None:
        return False
    if name in widths:
        return True
    word = re.escape(name.encode())
    for argument in re.finditer(rb"<\s*" + word + rb"\s*>\s*\(", source):
        callee = _CALLEE_BEFORE.search(source, max(0, argument.start() - _CALLEE_WINDOW), argument.start())
        if callee is not None and _WARP_FUNCTION.search(callee.group(1)):
            return True
    defaults = re.finditer(rb"\b(\w+)\s*=\s*" + word + rb"\s*[,>]", source)
    return any(match.group(1).decode() in widths for match in defaults)


def _shuffle_loops(found: syntax.QueryMatches, source: bytes, report: Report) -> Iterator[CudaHit | None]:
    """`for (int offset = 16; offset > 0; offset /= 2) v += __shfl_xor_sync(...)`: a 32-lane tree."""
    for match in found["loop"]:
        loop = match["loop"]
        body = loop.child_by_field_name("body")
        if body is None or not _SHUFFLE.search(source, body.start_byte, body.end_byte):
            continue
        if _shuffles_name_their_width(found, source, body):
            continue
        bound = _literal_in(loop.child_by_field_name("initializer"), "16") or _literal_in(
            loop.child_by_field_name("condition"), "32"
        )
        if bound is not None:
            yield report("shuffle-loop", bound.start_byte, bound.end_byte)


def _shuffles_name_their_width(found: syntax.QueryMatches, source: bytes, body: Node) -> bool:
    """Every shuffle in `body` passes its width (`__shfl_xor_sync(mask, v, offset, WARP_SIZE)`):
    the tree reduces over groups of that width, whatever the wavefront's."""
    shuffles = len(_SHUFFLE.findall(source, body.start_byte, body.end_byte))
    with_width = sum(
        1
        for match in found["call"]
        if syntax.text(match["call.fn"]).startswith("__shfl")
        and body.start_byte <= match["call.fn"].start_byte < body.end_byte
        and match["call.args"].named_child_count >= 4
    )
    return shuffles == with_width


def _literal_in(node: Node | None, value: str) -> Node | None:
    """The number literal `value` that a loop's initializer assigns or its condition compares to."""
    if node is None:
        return None
    if node.type == "declaration":
        node = next((c for c in node.named_children if c.type == "init_declarator"), None)
        node = node.child_by_field_name("value") if node is not None else None
    elif node.type in ("assignment_expression", "binary_expression"):
        node = node.child_by_field_name("right")
    if node is not None and node.type == "number_literal" and syntax.text(node).rstrip("uU") == value:
        return node
    return None


def _shared_per_warp(found: syntax.QueryMatches, report: Report) -> Iterator[CudaHit | None]:
    """`__shared__ float partial[BLOCK / 32]`: one slot per warp of 32."""
    for match in found["array"]:
        size = match["array.size"]
        operator = size.child_by_field_name("operator")
        right = size.child_by_field_name("right")
        if operator is None or right is None or right.type != "number_literal":
            continue
        if (syntax.text(operator), syntax.text(right).rstrip("uU")) not in (("/", "32"), (">>", "5")):
            continue
        declaration = _ancestor(size, "declaration")
        if declaration is not None and any(
            child.type == "type_qualifier" and syntax.text(child) == "__shared__" for child in declaration.children
        ):
            yield report("shared-per-warp", size.start_byte, size.end_byte)


def _device_launches(found: syntax.QueryMatches, report: Report) -> Iterator[CudaHit | None]:
    """A `<<<...>>>` launch inside a `__global__` or `__device__` function: dynamic parallelism."""
    for match in found["launch"]:
        launch = match["launch"]
        function = _ancestor(launch, "function_definition")
        if function is None:
            continue
        qualifiers = {child.type for child in function.children}
        if qualifiers & {"__global__", "__device__"} and "__host__" not in qualifiers:
            call = launch.parent if launch.parent is not None else launch
            yield report("device-launch", call.start_byte, launch.end_byte)


_GRID = rb"(?:\w+::)*this_grid\s*\(\s*\)"
_GRID_NAMES = re.compile(rb"\bgrid_group\s*[&*]*\s*(?:const\s+)?(\w+)|\b(\w+)\s*=\s*" + _GRID + rb"(?!\s*\.)")
"""A grid group's name: declared with its type (a variable or a parameter, `cg::grid_group& g`) or
bound to `this_grid()` (`auto grid = cg::this_grid();`, not `idx = cg::this_grid().thread_rank()`)."""
_MULTI_GRID = re.compile(rb"\b(?:this_multi_grid|multi_grid_group)\b")


def _grid_syncs(source: bytes, report: Report) -> Iterator[CudaHit | None]:
    """A barrier across the grid: `.sync()` on a grid group, or `sync()` given one (`grid.sync()`,
    `cg::this_grid().sync()`, `cg::sync(grid)`), and any multi-device grid group. Only these need a
    cooperative launch: a grid group used for its properties (`this_grid().thread_rank()`,
    `grid.size()`) works from an ordinary launch, on CUDA and on HIP alike."""
    if b"grid" not in source:
        return
    for match in _MULTI_GRID.finditer(source):
        yield report("multi-grid", match.start(), match.end())
    if b"sync" not in source:
        return
    names = {name for match in _GRID_NAMES.finditer(source) for name in match.groups() if name}
    groups = b"|".join([_GRID, *(re.escape(name) for name in sorted(names))])
    syncs = re.compile(rb"(?<![\w:])(?:" + groups + rb")\s*\.\s*sync\s*\(\s*\)|\bsync\s*\(\s*(?:" + groups + rb")\s*\)")
    for match in syncs.finditer(source):
        yield report("grid-sync", match.start(), match.end())


def _ancestor(node: Node, kind: str) -> Node | None:
    parent = node.parent
    while parent is not None and parent.type != kind:
        parent = parent.parent
    return parent
