"""The audio front end: one contract, decoding and the STFT that training and the app share."""

from .contract import FrontEndContract
from .decode import (
    AUDIO_FILE_SUFFIXES,
    MAX_SOUND_CHANNELS,
    AudioDecodeError,
    AudioFileReader,
    CorruptAudioError,
    EmptyAudioError,
    NotAnAudioFileError,
    UnsupportedAudioError,
    decode_file,
    open_audio_file,
    stereo_sound,
)
from .resample import StreamResampler
from .stft import (
    FrameAnalyser,
    RollingSTFT,
    analyse_blocks,
    analyse_signal,
    analyse_window,
    sanitize,
)

__all__ = [
    "AUDIO_FILE_SUFFIXES",
    "MAX_SOUND_CHANNELS",
    "AudioDecodeError",
    "AudioFileReader",
    "CorruptAudioError",
    "EmptyAudioError",
    "FrameAnalyser",
    "FrontEndContract",
    "NotAnAudioFileError",
    "RollingSTFT",
    "StreamResampler",
    "UnsupportedAudioError",
    "analyse_blocks",
    "analyse_signal",
    "analyse_window",
    "decode_file",
    "open_audio_file",
    "sanitize",
    "stereo_sound",
]
