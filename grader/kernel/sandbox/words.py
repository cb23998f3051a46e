"""The words results and reports use about cages: what a cage may fail to stop, and its warnings.

Free of anything POSIX-only: reports (and a student's self-check) render them on any platform.
"""

from __future__ import annotations

from grader.i18n import T

__all__ = ["CGROUP_LOST", "GAPS", "NOTHING_HOLDS", "NO_PROCESS_LIMIT", "OWN_CODE", "UNCAGED", "does_not_stop"]

GAPS: dict[str, T] = {
    "network": T("네트워크 접근", "the network"),
    "signals": T("채점기와 다른 프로세스에 신호 보내기·추적",
                 "signals to and tracing of the grader and other processes"),
    "environ": T("다른 프로세스의 환경 변수 읽기", "reading other processes' environment variables"),
    "hidden_files": T("숨은 검사, 정답, 성적부, 출력과 다른 제출물 읽기",
                      "reading the hidden checks, the solutions, the gradebook, the outputs and other submissions"),
    "other_files": T("커널의 사용자가 읽을 수 있는 기계의 다른 파일 읽기",
                     "reading the machine's other files that the kernel's user may read"),
    "writes": T("자기 폴더 밖(공용 임시 폴더)에 쓰기", "writing outside its own folders (shared temporary folders)"),
    "process_list": T("기계의 다른 프로세스와 그 명령줄 보기",
                      "seeing the machine's other processes and their command lines"),
    "processes": T("프로세스 수 (pids cgroup 이 없음)", "the number of processes (no pids cgroup)"),
    "scratch_size": T("쓰는 파일의 전체 크기 (크기 제한이 있는 작업 폴더가 없음; 파일마다의 크기 제한은 있음)",
                      "the total size of what it writes (no size-bounded scratch folder; each file is still capped)"),
}

UNCAGED = T(
    "샌드박스 없이 자원 제한만 걸고 실행했습니다 ({why}). 커널이 네트워크와 채점기의 파일에 접근할 수 있었습니다.",
    "No sandbox ({why}): the kernel ran with resource limits only, and could reach the network and the grader's files.",
)
OWN_CODE = T(
    "샌드박스 없이 실행했습니다 ({why}). 자신의 코드이므로 괜찮습니다: 자원 제한은 걸려 있습니다.",
    "No sandbox here ({why}); fine for your own code, which ran with resource limits only.",
)
NO_PROCESS_LIMIT = T(
    "cgroup 을 만들 수 없어 커널의 프로세스 수 제한이 적용되지 않았습니다.",
    "No pids cgroup could be made, so the kernel's process limit was not enforced.",
)
CGROUP_LOST = T(
    "커널의 pids cgroup 이 커널이 들어가기 전에 사라져, 커널이 프로세스 수 제한 없이 실행되었습니다.",
    "The kernel's pids cgroup was removed before the kernel could join it, so the kernel ran without its "
    "process limit.",
)
NOTHING_HOLDS = (
    "no sandbox can hold student code on this machine ({why}). Install bubblewrap (apt-get install "
    "bubblewrap), or grade as root in a container; --sandbox none runs notebooks you trust without one")


def does_not_stop(gaps: list[str] | tuple[str, ...], lang: str) -> str:
    """A cage's gaps in one line of the given language ("" when it stops everything listed)."""
    return "; ".join(GAPS[gap](lang) for gap in gaps if gap in GAPS)
