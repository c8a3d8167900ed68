"""A small, safe expression language for derived variables, evaluated column-wise on a pandas DataFrame.

The text is parsed with Python's `ast` and only a whitelist of nodes is accepted: numbers, strings, True, False,
None, column names, + - * / **, comparisons (== != < <= > >= in, not in), and/or/not, `a if condition else b`
and the functions in FUNCTIONS. Nothing is ever handed to eval or exec. A column whose name is not a valid
identifier is written col("Age (years)").

Missing values propagate: arithmetic with a missing value is missing, a comparison with a missing value is
missing, and `and`/`or` follow three-valued logic (missing and False is False). Division by zero, the log of a
non-positive number and overflow give a missing value rather than an infinity.

No value is lost in silence: wherever a function or an operator gives a missing value from values that are all
present (number("12,5"), date("31/02/2020"), log(0), 1 / 0), the row is reported as a loss, with the value,
and the rule flags it (evaluate_with_losses).
"""

import ast
import difflib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from apps.core.errors import ApplicationError
from apps.datasets import inference

MAX_LENGTH = 2000
MAX_NODES = 1000
MAX_DEPTH = 150


class ExpressionError(ApplicationError):
    """A refused or failing expression; `position` is the 1-based character where the problem starts."""

    def __init__(self, message: str, *, position: int | None = None):
        where = f" (at character {position})" if position else ""
        super().__init__(f"{message}{where}", code="invalid_expression", details={"expression": [message + where]})
        self.position = position


@dataclass(frozen=True)
class Function:
    implementation: Callable
    min_args: int
    max_args: int | None
    help: str


def _position(node: ast.AST) -> int | None:
    offset = getattr(node, "col_offset", None)
    return offset + 1 if offset is not None else None


def _as_series(value, index: pd.Index) -> pd.Series:
    if isinstance(value, pd.Series):
        return value
    if value is None or isinstance(value, str):
        return pd.Series(value, index=index, dtype=object)
    return pd.Series(value, index=index)


def _numeric(value):
    """Numbers as float64 (so ** cannot build a huge integer); text is refused by the caller's check."""
    if isinstance(value, pd.Series):
        if pd.api.types.is_bool_dtype(value.dtype):
            return value.astype("Float64").astype("float64")
        if pd.api.types.is_numeric_dtype(value.dtype):
            return value.astype("float64")
        raise TypeError("text")
    if value is None:
        return np.nan
    if isinstance(value, bool | np.bool_):
        return np.float64(value)
    if isinstance(value, int | float | np.number):
        return np.float64(value)
    raise TypeError("text")


def _finite(value):
    """Infinities from division by zero or overflow become missing values."""
    if isinstance(value, pd.Series):
        return value.where(np.isfinite(value), np.nan)
    return value if np.isfinite(value) else np.nan


def _boolean(value, index: pd.Index) -> pd.Series:
    """A nullable boolean Series, so that missing stays missing through and/or/not."""
    series = _as_series(value, index)
    if series.dtype == "boolean":
        return series
    if pd.api.types.is_bool_dtype(series.dtype):
        return series.astype("boolean")
    if pd.api.types.is_numeric_dtype(series.dtype):
        result = (series != 0).astype("boolean")
        return result.mask(series.isna())
    raise TypeError("not true/false")


def _dates(value, index: pd.Index) -> pd.Series:
    return read_dates(_as_series(value, index))


def read_dates(series: pd.Series) -> pd.Series:
    """Dates from a column, read with one format for the whole column: the format most of its distinct values
    parse with strictly (as the parse types a column: "12/03/2020" is 12 March in a column of days first, and
    "2020-03-12" then is no date of that column). Values the format does not read are missing, and so flagged by
    the rule that reads them; a column of dates is returned as it is."""
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return series
    if not (pd.api.types.is_object_dtype(series.dtype) or pd.api.types.is_string_dtype(series.dtype)):
        return pd.to_datetime(series, errors="coerce")
    text = series.astype("string").str.strip()
    distinct = text.dropna().unique()
    if not len(distinct):
        return pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns]")
    parsed = inference.dates_in_one_format([str(value) for value in distinct])
    if parsed is None:
        # None of the usual forms: pandas reads what it can (ISO times with zones, "March 12, 2020"); times with
        # different offsets (summer and winter time) are read as the same instants in UTC.
        try:
            return pd.to_datetime(text.astype(object), errors="coerce", format="mixed")
        except (ValueError, TypeError):
            return pd.to_datetime(text.astype(object), errors="coerce", format="mixed", utc=True).dt.tz_convert(None)
    return pd.to_datetime(text.map(dict(zip(distinct, parsed, strict=True))), errors="coerce")


def _positive_only(x, *, allow_zero: bool):
    """Values outside a function's domain become missing instead of raising or warning."""
    x = _numeric(x)
    inside = x >= 0 if allow_zero else x > 0
    if isinstance(x, pd.Series):
        return x.where(inside, np.nan)
    return x if inside else np.nan


def _fn_log(x):
    return _finite(np.log(_positive_only(x, allow_zero=False)))


def _fn_exp(x):
    return _finite(np.exp(_numeric(x)))


def _fn_sqrt(x):
    return np.sqrt(_positive_only(x, allow_zero=True))


def _fn_abs(x):
    return np.abs(_numeric(x))


def _fn_round(x, digits=0):
    digits = _numeric(digits)
    if isinstance(digits, pd.Series) or not float(digits).is_integer():
        raise TypeError("round() takes a whole number of digits")
    return np.round(_numeric(x), int(digits))


def _elementwise(values, index: pd.Index, reducer: str) -> pd.Series:
    frame = pd.concat([_as_series(_numeric(v), index) for v in values], axis=1)
    return getattr(frame, reducer)(axis=1, skipna=True).where(frame.notna().any(axis=1), np.nan)


def _fn_isnull(x, index):
    return _as_series(x, index).isna().astype("boolean")


def _fn_notnull(x, index):
    return _as_series(x, index).notna().astype("boolean")


def _fn_coalesce(*values, index):
    result = _as_series(values[0], index).astype(object)
    for value in values[1:]:
        result = result.where(result.notna(), _as_series(value, index))
    return result.infer_objects()


def _fn_days_between(start, end, index):
    """Whole days from start to end (end - start), as ADaM study-day arithmetic without the +1."""
    delta = _dates(end, index) - _dates(start, index)
    return delta.dt.days.astype("float64")


def _fn_number(x, index):
    # "inf" and "1e400" read as infinities, which are no measurement: missing, and so reported as lost.
    return _finite(pd.to_numeric(_as_series(x, index), errors="coerce").astype("float64"))


def _fn_text(x, index):
    series = _as_series(x, index)
    return series.astype(object).where(series.isna(), series.astype(str))


def _fn_date(x, index):
    return _dates(x, index)


FUNCTIONS: dict[str, Function] = {
    "log": Function(_fn_log, 1, 1, "natural logarithm; missing for values <= 0"),
    "exp": Function(_fn_exp, 1, 1, "e to the power x"),
    "sqrt": Function(_fn_sqrt, 1, 1, "square root; missing for negative values"),
    "abs": Function(_fn_abs, 1, 1, "absolute value"),
    "round": Function(_fn_round, 1, 2, "round(x, digits)"),
    "min": Function(lambda *v, index: _elementwise(v, index, "min"), 2, None, "row-wise minimum, ignoring missing"),
    "max": Function(lambda *v, index: _elementwise(v, index, "max"), 2, None, "row-wise maximum, ignoring missing"),
    "isnull": Function(_fn_isnull, 1, 1, "true where x is missing"),
    "notnull": Function(_fn_notnull, 1, 1, "true where x is present"),
    "coalesce": Function(_fn_coalesce, 2, None, "the first value that is not missing"),
    "days_between": Function(_fn_days_between, 2, 2, "days_between(start, end): end - start in days"),
    "number": Function(_fn_number, 1, 1, "text to number; missing where it is not a number"),
    "text": Function(_fn_text, 1, 1, "value as text"),
    "date": Function(_fn_date, 1, 1, "text to date; missing where it is not a date"),
}
# Functions that need the frame's index to build a column from scalars.
_NEEDS_INDEX = {"min", "max", "isnull", "notnull", "coalesce", "days_between", "number", "text", "date"}

_BINARY_OPERATORS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_COMPARISONS = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.In: "in",
    ast.NotIn: "not in",
}
_CONSTANT_NAMES = {"True", "False", "None"}


@dataclass
class Loss:
    """Rows where a part of the expression gave a missing value from present inputs, and why."""

    mask: np.ndarray
    values: pd.Series
    describe: Callable


# What a function's lost value is called in its flag; other functions say they "gave no value".
LOSS_DESCRIPTIONS = {
    "number": lambda value: f"not a number: {_short(value)}",
    "date": lambda value: f"not a date: {_short(value)}",
    "log": lambda value: f"log() of a value that is not above 0: {_short(value)}",
    "sqrt": lambda value: f"sqrt() of a negative value: {_short(value)}",
    "exp": lambda value: f"exp() too large to compute: {_short(value)}",
    "days_between": lambda value: f"days_between(): not a date: {_short(value)}",
}
OPERATOR_LOSSES = {ast.Pow: lambda value: f"power too large or undefined: {_short(value)} ** ..."}


def _gave_nothing(name: str) -> Callable:
    return lambda value: f"{name}() gave no value for {_short(value)}"


def _division_loss(divisor) -> str:
    """Named by the divisor: "division by zero" where it is 0, else the quotient was too large."""
    if divisor == 0:
        return "division by zero"
    return f"division too large to compute (divisor {_short(divisor)})"


def _short(value) -> str:
    text = repr(value.item() if hasattr(value, "item") else value)
    return text if len(text) <= 40 else text[:37] + "..."


def _present(value, index: pd.Index) -> np.ndarray:
    """Where a value (a column or a constant) is present."""
    if isinstance(value, pd.Series):
        return value.notna().to_numpy(dtype=bool)
    missing = value is None or (isinstance(value, float | np.floating) and np.isnan(value))
    return np.full(len(index), not missing)


@dataclass(frozen=True)
class Expression:
    """A checked expression: its text, its tree and the columns it reads."""

    text: str
    tree: ast.Expression
    columns: tuple[str, ...]

    def evaluate(self, frame: pd.DataFrame) -> pd.Series:
        return evaluate(self, frame)


def parse(text: str, *, columns: list[str] | None = None) -> Expression:
    """Check an expression; with `columns`, every column it names must be one of them."""
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError("The expression is empty.")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"The expression is longer than {MAX_LENGTH} characters.")
    if "\n" in text.strip() or "\r" in text:
        raise ExpressionError("Write the expression on one line.")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as error:
        raise ExpressionError(f"Syntax error: {error.msg}", position=error.offset or len(text.strip()))
    nodes = list(ast.walk(tree))
    if len(nodes) > MAX_NODES:
        raise ExpressionError(f"The expression is too long ({len(nodes)} parts; the limit is {MAX_NODES}).")
    if _depth(tree.body) > MAX_DEPTH:
        raise ExpressionError(f"The expression is nested more than {MAX_DEPTH} levels deep.")
    names: list[str] = []
    _check(tree.body, names)
    if columns is not None:
        for name, node in names:
            if name not in columns:
                raise ExpressionError(_unknown_column_message(name, columns), position=_position(node))
    ordered = tuple(dict.fromkeys(name for name, _ in names))
    return Expression(text=text.strip(), tree=tree, columns=ordered)


def _depth(root: ast.AST) -> int:
    """How deeply the tree nests, found without recursion (the walk itself must not overflow the stack)."""
    deepest, stack = 0, [(root, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


def _unknown_column_message(name: str, columns) -> str:
    close = difflib.get_close_matches(name, [str(c) for c in columns], n=1)
    hint = f" Did you mean {close[0]}?" if close else ""
    return f"Unknown column {name!r}.{hint}"


def _check(node: ast.AST, names: list) -> None:
    """Walk the tree and refuse every node outside the whitelist; collect the column names read."""
    match node:
        case ast.Constant(value=value):
            if not (value is None or isinstance(value, bool | int | float | str)):
                raise ExpressionError(
                    f"Values of type {type(value).__name__} are not allowed.", position=_position(node)
                )
        case ast.Name(id=name):
            if name not in _CONSTANT_NAMES:
                names.append((name, node))
        case ast.BinOp(op=op, left=left, right=right):
            if type(op) not in _BINARY_OPERATORS:
                raise ExpressionError(f"The operator {_op_symbol(op)} is not allowed.", position=_position(node))
            _check(left, names)
            _check(right, names)
        case ast.UnaryOp(op=op, operand=operand):
            if not isinstance(op, ast.USub | ast.UAdd | ast.Not):
                raise ExpressionError("Only -, + and not may stand before a value.", position=_position(node))
            _check(operand, names)
        case ast.BoolOp(values=values):
            for value in values:
                _check(value, names)
        case ast.Compare(left=left, ops=ops, comparators=comparators):
            for op, right in zip(ops, comparators, strict=True):
                if type(op) not in _COMPARISONS:
                    raise ExpressionError(
                        "Use ==, !=, <, <=, >, >=, in or not in to compare.", position=_position(node)
                    )
                if isinstance(op, ast.In | ast.NotIn):
                    _check_literal_list(right)
                else:
                    _check(right, names)
            _check(left, names)
        case ast.IfExp(test=test, body=body, orelse=orelse):
            for part in (test, body, orelse):
                _check(part, names)
        case ast.Call():
            _check_call(node, names)
        case _:
            raise ExpressionError(f"{_describe(node)} is not allowed in an expression.", position=_position(node))


def _check_call(node: ast.Call, names: list) -> None:
    if not isinstance(node.func, ast.Name):
        raise ExpressionError("Only the listed functions may be called.", position=_position(node))
    name = node.func.id
    if node.keywords:
        raise ExpressionError(f"{name}() takes no named arguments.", position=_position(node))
    if name == "col":
        if len(node.args) != 1 or not isinstance(node.args[0], ast.Constant) or not isinstance(node.args[0].value, str):
            raise ExpressionError(
                'col() takes one column name in quotes, e.g. col("Age (years)").', position=_position(node)
            )
        names.append((node.args[0].value, node))
        return
    function = FUNCTIONS.get(name)
    if function is None:
        close = difflib.get_close_matches(name, [*FUNCTIONS, "col"], n=1)
        hint = f" Did you mean {close[0]}()?" if close else ""
        known = ", ".join(sorted([*FUNCTIONS, "col"]))
        raise ExpressionError(f"Unknown function {name}().{hint} Known functions: {known}.", position=_position(node))
    count = len(node.args)
    if count < function.min_args or (function.max_args is not None and count > function.max_args):
        raise ExpressionError(f"{name}() got {count} argument(s): {function.help}.", position=_position(node))
    for argument in node.args:
        if isinstance(argument, ast.Starred):
            raise ExpressionError("* arguments are not allowed.", position=_position(argument))
        _check(argument, names)


def _check_literal_list(node: ast.AST) -> None:
    if not isinstance(node, ast.Tuple | ast.List) or not node.elts:
        raise ExpressionError("After in, write a list of values, e.g. x in (1, 2).", position=_position(node))
    for element in node.elts:
        if isinstance(element, ast.UnaryOp) and isinstance(element.op, ast.USub):
            element = element.operand
        if not isinstance(element, ast.Constant) or not isinstance(element.value, int | float | str):
            raise ExpressionError("The list after in may hold only numbers and text.", position=_position(element))


def _describe(node: ast.AST) -> str:
    return {
        ast.Attribute: "Attribute access (.)",
        ast.Subscript: "Indexing ([])",
        ast.Lambda: "lambda",
        ast.NamedExpr: "Assignment (:=)",
        ast.ListComp: "A comprehension",
        ast.GeneratorExp: "A comprehension",
        ast.Dict: "A dictionary",
        ast.Tuple: "A tuple",
        ast.List: "A list",
        ast.JoinedStr: "An f-string",
    }.get(type(node), type(node).__name__)


def _op_symbol(op: ast.AST) -> str:
    return {ast.Mod: "%", ast.FloorDiv: "//", ast.BitAnd: "&", ast.BitOr: "|", ast.BitXor: "^"}.get(
        type(op), type(op).__name__
    )


def evaluate(expression: Expression | str, frame: pd.DataFrame) -> pd.Series:
    """The expression's value on every row of `frame`, as a Series with the frame's index."""
    return evaluate_with_losses(expression, frame)[0]


def evaluate_with_losses(expression: Expression | str, frame: pd.DataFrame) -> tuple[pd.Series, list[Loss]]:
    """The expression's value on every row, and the rows where a function or an operator lost a value."""
    if isinstance(expression, str):
        expression = parse(expression, columns=list(frame.columns))
    else:
        for name in expression.columns:
            if name not in frame.columns:
                raise ExpressionError(_unknown_column_message(name, frame.columns))
    evaluator = _Evaluator(frame)
    with np.errstate(all="ignore"):
        value = evaluator.visit(expression.tree.body)
    return _as_series(value, frame.index), evaluator.losses


class _Evaluator:
    def __init__(self, frame: pd.DataFrame):
        self.frame = frame
        self.index = frame.index
        self.losses: list[Loss] = []

    def _note_losses(self, inputs: list, result, describe: Callable, shown=None) -> None:
        """Record the rows where every input is present but the result is missing; `shown` (by default the first
        input that is a column) is the value the flag names."""
        if not isinstance(result, pd.Series) and not any(isinstance(value, pd.Series) for value in inputs):
            return
        present = np.ones(len(self.index), dtype=bool)
        for value in inputs:
            present &= _present(value, self.index)
        lost = present & ~_present(result, self.index)
        if lost.any():
            if shown is None:
                shown = next((value for value in inputs if isinstance(value, pd.Series)), inputs[0])
            self.losses.append(Loss(lost, _as_series(shown, self.index), describe))

    def visit(self, node: ast.AST):
        try:
            return self._visit(node)
        except ExpressionError:
            raise
        except (TypeError, ValueError) as error:
            raise ExpressionError(_type_message(node, error), position=_position(node))

    def _visit(self, node: ast.AST):
        match node:
            case ast.Constant(value=value):
                return np.float64(value) if isinstance(value, int | float) and not isinstance(value, bool) else value
            case ast.Name(id="True"):
                return True
            case ast.Name(id="False"):
                return False
            case ast.Name(id="None"):
                return None
            case ast.Name(id=name):
                return self.frame[name]
            case ast.BinOp():
                return self._binary(node)
            case ast.UnaryOp(op=ast.Not(), operand=operand):
                return ~_boolean(self.visit(operand), self.index)
            case ast.UnaryOp(op=op, operand=operand):
                value = _numeric(self.visit(operand))
                return -value if isinstance(op, ast.USub) else value
            case ast.BoolOp(op=op, values=values):
                result = _boolean(self.visit(values[0]), self.index)
                for value in values[1:]:
                    other = _boolean(self.visit(value), self.index)
                    result = result & other if isinstance(op, ast.And) else result | other
                return result
            case ast.Compare():
                return self._compare(node)
            case ast.IfExp(test=test, body=body, orelse=orelse):
                condition = _boolean(self.visit(test), self.index)
                taken = condition.fillna(False).to_numpy(dtype=bool)
                not_taken = (~condition).fillna(False).to_numpy(dtype=bool)
                yes = _as_series(self._branch(body, taken), self.index)
                no = _as_series(self._branch(orelse, not_taken), self.index)
                chosen = yes.where(condition.fillna(False), no)
                return chosen.mask(condition.isna())
            case ast.Call(func=ast.Name(id="col"), args=[ast.Constant(value=name)]):
                return self.frame[name]
            case ast.Call(func=ast.Name(id=name), args=args):
                function = FUNCTIONS[name]
                values = [self.visit(argument) for argument in args]
                if name in _NEEDS_INDEX:
                    result = function.implementation(*values, index=self.index)
                else:
                    result = function.implementation(*values)
                self._note_losses(values, result, LOSS_DESCRIPTIONS.get(name, _gave_nothing(name)))
                return result
        raise ExpressionError(f"{_describe(node)} is not allowed in an expression.", position=_position(node))

    def _branch(self, node: ast.AST, rows: np.ndarray):
        """A branch of `a if condition else b`, evaluated on every row like the rest; a value it loses counts
        only on the rows that take the branch (`log(x) if x > 0 else None` loses nothing)."""
        known = len(self.losses)
        value = self.visit(node)
        for loss in self.losses[known:]:
            loss.mask = loss.mask & rows
        self.losses[known:] = [loss for loss in self.losses[known:] if loss.mask.any()]
        return value

    def _binary(self, node: ast.BinOp):
        left, right = self.visit(node.left), self.visit(node.right)
        if isinstance(node.op, ast.Add) and _is_text(left) and _is_text(right):
            return _as_series(left, self.index).astype(object) + _as_series(right, self.index).astype(object)
        left, right = _numeric(left), _numeric(right)
        result = self._arithmetic(node, left, right)
        if isinstance(node.op, ast.Div):
            self._note_losses([left, right], result, _division_loss, shown=right)
        else:
            describe = OPERATOR_LOSSES.get(type(node.op), lambda value: f"too large to compute: {_short(value)}")
            self._note_losses([left, right], result, describe)
        return result

    def _arithmetic(self, node: ast.BinOp, left, right):
        match node.op:
            case ast.Add():
                return left + right
            case ast.Sub():
                return left - right
            case ast.Mult():
                return left * right
            case ast.Div():
                return _finite(np.divide(left, right))
            case ast.Pow():
                return _finite(np.power(left, right))

    def _compare(self, node: ast.Compare):
        result = None
        left = self.visit(node.left)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            if isinstance(op, ast.In | ast.NotIn):
                values = [_literal(element) for element in comparator.elts]
                series = _as_series(left, self.index)
                outcome = _membership(series, values)
                if isinstance(op, ast.NotIn):
                    outcome = ~outcome
                right = left
            else:
                right = self.visit(comparator)
                outcome = _comparison(left, right, op, self.index)
            result = outcome if result is None else result & outcome
            left = right
        return result


def _literal(node: ast.AST):
    if isinstance(node, ast.UnaryOp):
        return -node.operand.value
    return node.value


def _is_text(value) -> bool:
    if isinstance(value, str):
        return True
    return isinstance(value, pd.Series) and (
        pd.api.types.is_string_dtype(value.dtype) or pd.api.types.is_object_dtype(value.dtype)
    )


def _membership(series: pd.Series, values: list) -> pd.Series:
    if pd.api.types.is_numeric_dtype(series.dtype):
        numbers = [float(v) for v in values if not isinstance(v, str)]
        outcome = series.isin(numbers)
    else:
        outcome = series.isin([str(v) if not isinstance(v, str) else v for v in values] + values)
    return outcome.astype("boolean").mask(series.isna())


def _comparison(left, right, op: ast.AST, index: pd.Index) -> pd.Series:
    left_series, right_series = _as_series(left, index), _as_series(right, index)
    if _is_text(left) != _is_text(right) and not (left is None or right is None):
        raise TypeError("cannot compare text with numbers")
    if not _is_text(left):
        left_series, right_series = (
            _as_series(_numeric_or_date(left), index),
            _as_series(_numeric_or_date(right), index),
        )
    missing = left_series.isna() | right_series.isna()
    symbol = _COMPARISONS[type(op)]
    outcome = {
        "==": lambda: left_series == right_series,
        "!=": lambda: left_series != right_series,
        "<": lambda: left_series < right_series,
        "<=": lambda: left_series <= right_series,
        ">": lambda: left_series > right_series,
        ">=": lambda: left_series >= right_series,
    }[symbol]()
    return outcome.astype("boolean").mask(missing)


def _numeric_or_date(value):
    if isinstance(value, pd.Series) and pd.api.types.is_datetime64_any_dtype(value.dtype):
        return value
    return _numeric(value)


def _type_message(node: ast.AST, error: Exception) -> str:
    text = str(error)
    if "text" in text or "str" in text or "compare" in text:
        return (
            f"{_describe_operation(node)} needs numbers but got text; convert with number(x) or compare text with text."
        )
    return f"{_describe_operation(node)} cannot be computed: {text}."


def _describe_operation(node: ast.AST) -> str:
    if isinstance(node, ast.BinOp):
        return f"The operator {_BINARY_OPERATORS.get(type(node.op), '?')}"
    if isinstance(node, ast.Compare):
        return "The comparison"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return f"{node.func.id}()"
    return "This part of the expression"
