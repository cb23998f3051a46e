"""Bilingual text: every message a student or instructor reads exists in Korean and English."""

from __future__ import annotations

import locale
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["STATUS_WORDS", "T", "default_language", "points_text", "ui"]


@dataclass(frozen=True)
class T:
    """One piece of text in both languages; ``format`` fills both alike."""

    ko: str
    en: str

    def __call__(self, lang: str) -> str:
        return self.ko if lang == "ko" else self.en

    def format(self, **values: object) -> T:
        return T(self.ko.format(**values), self.en.format(**values))

    def __add__(self, other: T) -> T:
        return T(self.ko + other.ko, self.en + other.en)

    def to_dict(self) -> dict[str, str]:
        return {"ko": self.ko, "en": self.en}

    @classmethod
    def from_dict(cls, data: Mapping[str, str] | None) -> T | None:
        if not data:
            return None
        return cls(ko=str(data.get("ko") or data.get("en") or ""), en=str(data.get("en") or ""))

    @classmethod
    def same(cls, text: str) -> T:
        """Text that reads the same in both languages (a name, a number, a traceback)."""
        return cls(text, text)


def default_language(env: Mapping[str, str]) -> str:
    """Korean when the user's locale says so, English otherwise (read at the CLI edge)."""
    for key in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        value = env.get(key, "")
        if value:
            return "ko" if value.lower().startswith("ko") else "en"
    code = locale.getlocale()[0] or ""
    return "ko" if code.lower().startswith("ko") else "en"


# Every status's one wording, whichever vocabulary it comes from: a check's (grader.results.CheckStatus),
# an exercise's (ExerciseStatus) or a submission's in the class (grader.store.records.Status).
STATUS_WORDS: dict[str, T] = {
    "passed": T("통과", "passed"),
    "partial": T("부분 점수", "partly right"),
    "failed": T("실패", "failed"),
    "error": T("오류", "error"),
    "timeout": T("시간 초과", "timed out"),
    "not_run": T("실행 안 됨", "not run"),
    "public_only": T("공개 데이터에서만 통과", "public data only"),
    "graded": T("채점됨", "graded"),
    "kernel_died": T("커널 종료됨", "kernel died"),
    "limit": T("자원 제한 초과", "limit exceeded"),
    "missing": T("제출되지 않음", "not submitted"),
    "invalid": T("읽을 수 없음", "unreadable"),
    "unreadable": T("읽을 수 없음", "unreadable"),
}

# Words the engine itself shows (table headings, report sections), and the statuses'.
_UI: dict[str, T] = {
    "check": T("검사", "check"),
    "status": T("상태", "status"),
    "points": T("점수", "points"),
    "message": T("메시지", "message"),
    "hint": T("힌트", "hint"),
    "instructor_note": T("교수자의 답변", "from your instructor"),
    "total": T("합계", "total"),
    "score": T("점수", "score"),
    "exercise": T("실습", "exercise"),
    "hidden": T("숨은 검사", "hidden check"),
    "public": T("공개 검사", "public check"),
    "failing_cells": T("오류가 난 셀", "Cells that failed"),
    "cell": T("셀", "cell"),
    "device": T("장치", "device"),
    "student_report": T("채점 결과", "Grading report"),
    "problems": T("제출물 문제", "Problems with the submission"),
    "all_passed": T("모든 검사를 통과했습니다.", "Every check passed."),
    "some_failed": T("통과하지 못한 검사가 있습니다.", "Some checks did not pass."),
    "output": T("출력", "output"),
    "generated": T("생성 시각", "generated"),
    "tampered": T("수정된 제공 셀", "Edited given cells"),
    "final_grade": T("최종 점수", "Final grade"),
    "auto_score": T("자동 채점 점수", "automatic score"),
    "adjustments": T("교수자 조정", "Instructor adjustments"),
    "change": T("변경", "change"),
    "reason": T("사유", "reason"),
    "stale": T("이전 제출물에 대해 정한 조정", "decided on an earlier version of this submission"),
    "whole_exercise": T("실습 전체", "whole exercise"),
    "rubric": T("채점 기준 항목 (사람이 채점)", "Rubric items (scored by people)"),
    "rubric_item": T("항목", "Item"),
    "not_scored": T("아직 채점되지 않음", "not scored yet"),
    "comment": T("의견", "Comment"),
    "lateness": T("지각", "Lateness"),
    "submitted_at": T("제출 시각", "submitted"),
    "due": T("마감", "due"),
    "late_by": T("늦은 시간", "late by"),
    "late_penalty": T("지각 감점", "late penalty"),
    "on_time": T("제때 제출", "on time"),
    "penalty_shown_only": T("(표시만 하고 점수에는 반영하지 않음)", "(shown, not deducted)"),
    "excused": T("면제", "excused"),
}


def points_text(value: float) -> str:
    """Points as people read them, in either language: at most two decimals (two thirds of a
    point reads 0.67). Exports keep their full precision."""
    return f"{round(value, 2):g}"


def ui(key: str, lang: str) -> str:
    """An engine word (or a status's, :data:`STATUS_WORDS`) in ``lang``."""
    return (_UI.get(key) or STATUS_WORDS[key])(lang)
