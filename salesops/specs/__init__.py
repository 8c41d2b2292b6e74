"""SOP files: parse, validate, type-check expressions, render, diff and load (pure Python)."""

from salesops.specs.diff import diff_sop, diff_summary
from salesops.specs.expressions import (
    CelExpression,
    PreparedActivation,
    compile_expression,
    evaluate_bool,
)
from salesops.specs.library import Library, LoadedSop, content_hash, load_library
from salesops.specs.model import (
    Check,
    CompiledExpression,
    EscalationRule,
    ExpressionError,
    Fragment,
    KnowledgeSkill,
    ModelPolicy,
    SopSpec,
    SpecError,
    SpecIssue,
    Trigger,
    WriteBackRule,
)
from salesops.specs.normalize import sop_text_normalize
from salesops.specs.parser import parse_fragment, parse_skill, parse_sop
from salesops.specs.render import render_document, render_sop
from salesops.specs.scope import ExpressionScope

__all__ = [
    "CelExpression",
    "Check",
    "CompiledExpression",
    "EscalationRule",
    "ExpressionError",
    "ExpressionScope",
    "Fragment",
    "KnowledgeSkill",
    "Library",
    "LoadedSop",
    "ModelPolicy",
    "PreparedActivation",
    "SopSpec",
    "SpecError",
    "SpecIssue",
    "Trigger",
    "WriteBackRule",
    "compile_expression",
    "content_hash",
    "diff_sop",
    "diff_summary",
    "evaluate_bool",
    "load_library",
    "parse_fragment",
    "parse_skill",
    "parse_sop",
    "render_document",
    "render_sop",
    "sop_text_normalize",
]
