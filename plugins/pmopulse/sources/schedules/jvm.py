"""The one Java virtual machine MPXJ runs in: started on first use, once per process.

A JVM cannot be stopped and started again inside a process, and starting it costs about a
second, so nothing starts it at import time: DAG files and the CLI import this package
without paying for (or depending on) Java until a schedule is actually read.
"""

from __future__ import annotations

import threading

from pmopulse.errors import SourceError

_JVM_OPTIONS = (
    "-Djava.awt.headless=true",
    # MPXJ's libraries log through Log4j 2; without a provider it prints an error line on
    # every start. The simple provider keeps stderr quiet.
    "-Dlog4j2.loggerContextFactory=org.apache.logging.log4j.simple.SimpleLoggerContextFactory",
)
_lock = threading.Lock()


def start_jvm() -> None:
    """Start the JVM with MPXJ's jars on the class path, unless this process already did."""
    with _lock:
        import jpype

        if jpype.isJVMStarted():
            _check_mpxj_visible()
            return
        import mpxj  # noqa: F401  (puts MPXJ's jars on the class path)

        try:
            jvm = jpype.getDefaultJVMPath()
        except jpype.JVMNotFoundException:
            raise SourceError(
                "reading MS Project / Primavera schedules needs a Java runtime and none was found: "
                "install one (`make sysdeps` installs default-jre-headless) or set JAVA_HOME"
            ) from None
        jpype.startJVM(jvm, *_JVM_OPTIONS, convertStrings=False)


def _check_mpxj_visible() -> None:
    """Another library may have started the JVM first, without MPXJ on its class path."""
    import jpype

    try:
        jpype.JClass("org.mpxj.reader.UniversalProjectReader")
    except TypeError:
        raise SourceError("a Java VM was already started in this process without MPXJ's classes; "
                          "read schedules in a process of their own") from None
