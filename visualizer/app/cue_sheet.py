"""Cue sheets: the `.cue` beside one audio file of a whole album or DJ mix, which says where
in it each track starts and what it is called (as CD rippers and DJ software write them).

`read_cue_sheet` gives each audio file the sheet names (relative names against the sheet's
folder) with its `CueTrack`s: where each starts in that file (its `INDEX 01`, minutes,
seconds and frames of 1/75 s) and its title, performer and album (the sheet's own TITLE
and PERFORMER before its first track give the album, and the performer where a track names
none). The file plays as one, without a gap; the window names each track as it is reached
(`FilePlayback.tags`). `REM`, `INDEX 00` (a pregap), flags and the other commands are the
burners' own and are passed over. A sheet is read as UTF-8 (with or without its byte-order
mark) or, failing that, as Windows-1252, as older rippers wrote them. What a sheet cannot
be read as (no file, a file that is not there, a track with no start, starts that go
back) is a `PlaylistError` naming the sheet and its line.

A file can mark its tracks itself (`tracks_in_file`): a cue sheet in its CUESHEET tag (a
FLAC image as foobar2000 or EAC writes it), else its chapters (an M4A/M4B mix, ID3 CHAP
frames, a FLAC CUESHEET block); a sheet beside it comes first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from visualizer.frontend.container_audio import read_track_marks
from visualizer.frontend.decode import TrackTags

CUE_SUFFIX = ".cue"
CUE_FRAMES_PER_SECOND = 75  # a CD's sectors: INDEX mm:ss:ff


class CueSheetError(ValueError):
    """A cue sheet this app cannot play; the message names the sheet and the line."""


@dataclass(frozen=True)
class CueTrack:
    """One track of a cue sheet: where it starts in its file, seconds, and its tags."""

    start_seconds: float
    tags: TrackTags


def _sheet_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise CueSheetError(f"cannot read the cue sheet {path}: {error}") from error
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def _index_seconds(written: str) -> float:
    minutes, seconds, frames = (int(part) for part in written.split(":"))
    if not (0 <= seconds < 60 and 0 <= frames < CUE_FRAMES_PER_SECOND and minutes >= 0):
        raise ValueError(written)
    return minutes * 60 + seconds + frames / CUE_FRAMES_PER_SECOND


def _words(line: str) -> list[str]:
    """A sheet's line as its words: a quoted one runs to its closing quote (or the line's
    end), with no escapes (a Windows path keeps its backslashes, a title its apostrophes)."""
    words, rest = [], line.strip()
    while rest:
        if rest.startswith('"'):
            word, _, rest = rest[1:].partition('"')
        else:
            word, _, rest = rest.partition(" ")
        words.append(word)
        rest = rest.strip()
    return words


@dataclass
class _TrackRead:
    """A TRACK as read so far."""

    number: str
    line: int
    title: str = ""
    performer: str | None = None
    start: float | None = None


def read_cue_sheet(path: Path) -> list[tuple[Path, tuple[CueTrack, ...]]]:
    """Each audio file the sheet at `path` names, in its order, with its tracks."""

    def named_file(written: str, where: str) -> Path:
        audio = Path(written)
        audio = audio if audio.is_absolute() else path.parent / audio
        if not audio.is_file():
            raise CueSheetError(f"{where}: {written} does not exist")
        return audio

    return _read_sheet(_sheet_text(path), str(path), named_file)


def read_cue_sheet_as(path: Path, audio: Path) -> tuple[CueTrack, ...]:
    """The tracks of the sheet at `path`, which names one file, as `audio`'s whatever name
    its FILE line gives: a rip converted after its sheet was written ("Album.wav" in the
    sheet, Album.flac beside it). CueSheetError where it names more than one file."""
    files = _read_sheet(_sheet_text(path), str(path), lambda _, __: audio)
    if len(files) > 1:
        raise CueSheetError(f"{path} names {len(files)} files, not one")
    return files[0][1]


def read_embedded_cue_sheet(text: str, audio: Path) -> tuple[CueTrack, ...]:
    """The tracks of the cue sheet kept in the tags of the file `audio` (its CUESHEET): they
    are that file's, whatever name its FILE line gives (the image's name as ripped)."""
    files = _read_sheet(text, f"{audio} (its CUESHEET tag)", lambda _, __: audio)
    return files[0][1]


def _read_sheet(
    text: str, sheet: str, named_file: Callable[[str, str], Path]
) -> list[tuple[Path, tuple[CueTrack, ...]]]:
    """A sheet's `text`, named `sheet` in what it says, its FILE names found by
    `named_file(written, where)`."""
    album, album_performer = "", ""
    files: list[tuple[Path, list[CueTrack]]] = []
    track: _TrackRead | None = None

    def where(number: int) -> str:
        return f"{sheet}, line {number}"

    def finish() -> None:
        if track is None:
            return
        if track.start is None:
            raise CueSheetError(f"{where(track.line)}: track {track.number} has no INDEX 01")
        performer = album_performer if track.performer is None else track.performer
        file_tracks = files[-1][1]
        if file_tracks and track.start <= file_tracks[-1].start_seconds:
            raise CueSheetError(
                f"{where(track.line)}: track {track.number} starts at {track.start:.2f} s, not "
                f"after the track before ({file_tracks[-1].start_seconds:.2f} s)"
            )
        file_tracks.append(CueTrack(track.start, TrackTags.cleaned(track.title, performer, album)))

    for number, line in enumerate(text.splitlines(), start=1):
        words = _words(line)
        if not words:
            continue
        command, arguments = words[0].upper(), words[1:]
        if command == "FILE":
            finish()
            track = None
            if not arguments or not arguments[0]:
                raise CueSheetError(f"{where(number)}: FILE names no file")
            files.append((named_file(arguments[0], where(number)), []))
        elif command == "TRACK":
            finish()
            if not files:
                raise CueSheetError(f"{where(number)}: a TRACK before any FILE")
            track = _TrackRead(arguments[0] if arguments else "?", number)
        elif command in ("TITLE", "PERFORMER") and arguments:
            if track is None and command == "TITLE":
                album = arguments[0]
            elif track is None:
                album_performer = arguments[0]
            elif command == "TITLE":
                track.title = arguments[0]
            else:
                track.performer = arguments[0]
        elif command == "INDEX" and track is not None and arguments[:1] == ["01"]:
            try:
                track.start = _index_seconds(arguments[1])
            except (IndexError, ValueError):
                raise CueSheetError(
                    f"{where(number)}: INDEX 01 of track {track.number} is not mm:ss:ff"
                ) from None
    finish()
    if not files:
        raise CueSheetError(f"the cue sheet {sheet} names no audio file (no FILE line)")
    return [(audio, tuple(tracks)) for audio, tracks in files]


def tracks_in_file(audio: Path, tags: TrackTags) -> tuple[CueTrack, ...]:
    """The tracks the file `audio` marks in itself (`read_track_marks`): those of the cue
    sheet in its CUESHEET tag, else its chapters where it has two or more (each by the
    file's artist, on the album its tags name, else on its title; "Track 2" where a chapter
    has no title, as a FLAC's CUESHEET block gives none); () where it marks none. A sheet
    in its tags that cannot be read is passed over, as a folder's is."""
    marks = read_track_marks(audio)
    if marks.cue_sheet:
        try:
            sheet_tracks = read_embedded_cue_sheet(marks.cue_sheet, audio)
        except CueSheetError:
            sheet_tracks = ()
        if sheet_tracks:  # what the sheet leaves out, the file's tags say
            return tuple(
                CueTrack(
                    track.start_seconds,
                    TrackTags.cleaned(
                        track.tags.title,
                        track.tags.artist or tags.artist,
                        track.tags.album or tags.album,
                    ),
                )
                for track in sheet_tracks
            )
    starts = [chapter.start_seconds for chapter in marks.chapters]
    if len(marks.chapters) < 2 or len(set(starts)) < len(starts):
        return ()
    album = tags.album or tags.title
    return tuple(
        CueTrack(
            chapter.start_seconds,
            TrackTags.cleaned(chapter.title or f"Track {number}", tags.artist, album),
        )
        for number, chapter in enumerate(marks.chapters, start=1)
    )
