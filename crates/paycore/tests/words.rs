//! `paycore words` as an operator runs it.

use std::process::Command;

fn paycore(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_paycore"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn prints_capital_numerals() {
    for (amount, words) in [
        ("1005.30", "壹仟零伍元叁角"),
        ("10000000", "壹仟万元整"),
        ("-5", "负伍元整"),
    ] {
        let out = paycore(&["words", amount]);
        assert!(out.status.success());
        assert_eq!(String::from_utf8(out.stdout).unwrap().trim(), words);
    }
}

#[test]
fn refuses_bad_amounts_with_a_message() {
    let out = paycore(&["words", "1.005"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("too many decimal places"), "{stderr}");
}
