"""The Android boot image (AOSP system/tools/mkbootimg include/bootimg/bootimg.h): its
constants, declared once.

``decoder`` takes the layer off on the check path, ``samples`` builds boot images and
their mutations for the seed corpus.
"""

#: Its place in the registry (``validator.formats.FORMATS``).
ROLE = "wrapper"

MAGIC = b"ANDROID!"
