//! Which operating-system error codes are worth a retry: macOS `OSStatus` codes, Windows error
//! codes and Unix `errno` values, each classified by one pure function that every platform
//! compiles and tests.
//!
//! The rule is the same everywhere: **permanent unless known to be temporary**. A code is transient
//! only when its documentation describes a busy or exhausted state that passes by itself; every
//! other code, known or not, is permanent, so a corrupted trust setting on one keychain domain
//! costs that domain's anchors, not the whole store for the life of the process.

use std::io;
use std::path::Path;

use crate::source::{SourceError, Transience};

/// What a code means and whether retrying can help.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct OsErrorClass {
    pub(crate) transience: Transience,
    /// The code's symbolic name, such as `errSecIO`, or `None` for a code not listed here.
    pub(crate) name: Option<&'static str>,
    /// What it means (why it is transient); empty when nothing is known. Part of the message.
    pub(crate) meaning: &'static str,
    /// What an operator can do about it, when there is something specific: the error's advice,
    /// never part of its message.
    pub(crate) advice: Option<&'static str>,
}

const fn transient(name: &'static str, why: &'static str) -> OsErrorClass {
    OsErrorClass {
        transience: Transience::Transient,
        name: Some(name),
        meaning: why,
        advice: None,
    }
}

const fn permanent(name: &'static str, meaning: &'static str) -> OsErrorClass {
    OsErrorClass {
        transience: Transience::Permanent,
        name: Some(name),
        meaning,
        advice: None,
    }
}

/// The same class, with what an operator can do about it.
const fn with_advice(class: OsErrorClass, advice: &'static str) -> OsErrorClass {
    OsErrorClass {
        advice: Some(advice),
        ..class
    }
}

const UNKNOWN: OsErrorClass = OsErrorClass {
    transience: Transience::Permanent,
    name: None,
    meaning: "",
    advice: None,
};

// The macOS codes are classified (and tested) on every platform, used only on macOS.
/// `errSecIO`: Apple documents it as an I/O error; under concurrent callers the Security framework
/// answers it when the keychain is busy.
#[cfg_attr(not(target_os = "macos"), allow(dead_code))]
pub(crate) const ERR_SEC_IO: i32 = -36;
/// `errSecInvalidTrustSettings`: corrupted trust settings on one certificate or domain.
#[cfg_attr(not(target_os = "macos"), allow(dead_code))]
pub(crate) const ERR_SEC_INVALID_TRUST_SETTINGS: i32 = -25262;

/// A macOS Security framework `OSStatus`.
#[cfg_attr(not(target_os = "macos"), allow(dead_code))]
pub(crate) fn classify_os_status(code: i32) -> OsErrorClass {
    match code {
        ERR_SEC_IO => transient(
            "errSecIO",
            "the keychain was busy, typically because another thread or process read it at the \
             same time",
        ),
        -108 => transient(
            "errSecAllocate",
            "the Security framework could not allocate memory",
        ),
        -67585 => transient(
            "errSecServiceNotAvailable",
            "securityd was not available, as while it restarts",
        ),
        ERR_SEC_INVALID_TRUST_SETTINGS => with_advice(
            permanent(
                "errSecInvalidTrustSettings",
                "the trust settings of a certificate or of a whole domain are corrupted",
            ),
            "open Keychain Access, find the certificate (or list the domain's settings with \
             `security dump-trust-settings [-d|-s]`), and reset its trust settings to the defaults",
        ),
        -25263 => permanent(
            "errSecNoTrustSettings",
            "the domain has no trust settings; nothing to do",
        ),
        -25308 => permanent(
            "errSecInteractionNotAllowed",
            "the keychain asked for user interaction, which a daemon cannot give: unlock the \
             keychain or run the process in a user session",
        ),
        -25291 => permanent(
            "errSecNotAvailable",
            "no keychain is available; Apple suggests restarting the computer",
        ),
        -25294 => permanent(
            "errSecNoSuchKeychain",
            "a keychain in the search list does not exist",
        ),
        -25293 => permanent("errSecAuthFailed", "the keychain refused the credentials"),
        -26275 => permanent(
            "errSecDecode",
            "a certificate in the keychain could not be decoded",
        ),
        _ => UNKNOWN,
    }
}

/// A Windows error code (`GetLastError`, as `std::io::Error::raw_os_error` gives it on Windows).
pub(crate) fn classify_windows_error(code: i32) -> OsErrorClass {
    match code {
        4 => transient(
            "ERROR_TOO_MANY_OPEN_FILES",
            "the process had no file handle left",
        ),
        8 => transient(
            "ERROR_NOT_ENOUGH_MEMORY",
            "the system could not allocate memory",
        ),
        14 => transient("ERROR_OUTOFMEMORY", "the system could not allocate memory"),
        32 => transient(
            "ERROR_SHARING_VIOLATION",
            "another process held the file open exclusively",
        ),
        170 => transient("ERROR_BUSY", "the resource was in use"),
        1723 => transient(
            "RPC_S_SERVER_TOO_BUSY",
            "the certificate service was too busy to answer",
        ),
        5 => permanent(
            "ERROR_ACCESS_DENIED",
            "the account may not open the certificate store",
        ),
        _ => UNKNOWN,
    }
}

/// A Unix `errno` (the same numbers on Linux, macOS and the BSDs for the codes listed here).
pub(crate) fn classify_errno(code: i32) -> OsErrorClass {
    match code {
        24 => with_advice(
            transient(
                "EMFILE",
                "the process has no file descriptor left: other work holds them all; this is not \
                 a missing trust store",
            ),
            "check `ulimit -n` and the process's descriptor leaks",
        ),
        23 => transient(
            "ENFILE",
            "the system has no file descriptor left; this is not a missing trust store",
        ),
        12 => transient(
            "ENOMEM",
            "the system could not allocate memory; this is not a missing trust store",
        ),
        _ => UNKNOWN,
    }
}

/// The raw OS error of an I/O error, classified for the platform it ran on.
pub(crate) fn classify_raw_io(code: i32) -> OsErrorClass {
    if cfg!(windows) {
        classify_windows_error(code)
    } else {
        classify_errno(code)
    }
}

/// `name (code): meaning (detail)`, or the bare code when it is not listed.
pub(crate) fn describe(class: OsErrorClass, code: i32, detail: &str) -> String {
    match (class.name, class.meaning) {
        (Some(name), "") => format!("{name} ({code}): {detail}"),
        (Some(name), meaning) => format!("{name} ({code}): {meaning} ({detail})"),
        (None, _) => format!("OS error {code}: {detail}"),
    }
}

/// An I/O error about `path`. Transient when retrying can help: interrupted, would-block or
/// timed-out reads, and no descriptor or memory left (`EMFILE`, `ENFILE`, `ENOMEM`, and their
/// Windows counterparts); permanent otherwise.
pub(crate) fn io_error(context: &str, err: &io::Error, path: &Path) -> SourceError {
    use io::ErrorKind as Io;
    let class = err.raw_os_error().map(|code| (code, classify_raw_io(code)));
    let message = match class {
        Some((code, class)) if class.name.is_some() => describe(class, code, &err.to_string()),
        _ => err.to_string(),
    };
    let transient = matches!(
        err.kind(),
        Io::Interrupted | Io::WouldBlock | Io::TimedOut | Io::OutOfMemory
    ) || class.is_some_and(|(_, class)| class.transience == Transience::Transient);
    let err = if transient {
        SourceError::transient(context, message)
    } else {
        SourceError::permanent(context, message)
    };
    let advice = class.and_then(|(_, class)| class.advice);
    err.with_path(path).with_advice(advice)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn err_sec_io_and_busy_states_are_transient() {
        for code in [ERR_SEC_IO, -108, -67585] {
            let class = classify_os_status(code);
            assert_eq!(class.transience, Transience::Transient, "{code}");
            assert!(!class.meaning.is_empty(), "{code} says why it is transient");
        }
    }

    #[test]
    fn corrupted_trust_settings_are_permanent_with_advice() {
        let class = classify_os_status(ERR_SEC_INVALID_TRUST_SETTINGS);
        assert_eq!(class.transience, Transience::Permanent);
        assert_eq!(class.name, Some("errSecInvalidTrustSettings"));
        let advice = class.advice.unwrap_or_default();
        assert!(advice.contains("Keychain Access"));
        assert!(advice.contains("reset its trust settings"));
    }

    #[test]
    fn every_other_code_is_permanent() {
        // Known codes, unknown codes, success and out-of-range values alike.
        for code in [
            -25308,
            -25291,
            -25300,
            -1,
            0,
            1,
            -99_999,
            i32::MIN,
            i32::MAX,
        ] {
            assert_eq!(
                classify_os_status(code).transience,
                Transience::Permanent,
                "{code}"
            );
        }
        for code in [0, 2, 3, 5, 87, 0x8009_2004_u32 as i32] {
            assert_eq!(
                classify_windows_error(code).transience,
                Transience::Permanent,
                "{code}"
            );
        }
        for code in [1, 2, 13, 20, 21, 22] {
            assert_eq!(
                classify_errno(code).transience,
                Transience::Permanent,
                "{code}"
            );
        }
    }

    #[test]
    fn windows_and_unix_resource_exhaustion_is_transient() {
        for code in [4, 8, 14, 32, 170, 1723] {
            assert_eq!(
                classify_windows_error(code).transience,
                Transience::Transient,
                "{code}"
            );
        }
        for code in [24, 23, 12] {
            let class = classify_errno(code);
            assert_eq!(class.transience, Transience::Transient, "{code}");
            assert!(class.meaning.contains("not a missing trust store"));
        }
    }

    #[test]
    fn descriptions_name_the_code() {
        let text = describe(
            classify_os_status(-25262),
            -25262,
            "The trust setting is invalid",
        );
        assert!(
            text.starts_with("errSecInvalidTrustSettings (-25262): "),
            "{text}"
        );
        assert_eq!(
            describe(classify_os_status(-4), -4, "unimplemented"),
            "OS error -4: unimplemented"
        );
    }
}
