//! The statistics agree with an independent implementation: SciPy and statsmodels
//! recompute Wilson intervals, z-tests with Newcombe intervals, chi-square (Yates
//! when dof = 1), Benjamini-Hochberg, McNemar and Kendall's tau, and numpy the
//! checklist figures (A, B, crawford-v1, joint-v1, preemptible, the staff gap's
//! top-k overlap and tau-b) from raw answers, on generated data
//! (`scripts/stats_crosscheck.py`). `scripts/test` installs them; without them this
//! test fails, it never passes silently.

use std::process::Command;

#[test]
fn statistics_agree_with_scipy_and_statsmodels() {
    let dir = tempfile::tempdir().unwrap();
    let cases = dir.path().join("cases.json");
    std::fs::write(&cases, pds::stats::crosscheck_cases(20_261_123, 200)).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/stats_crosscheck.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(&cases)
        .output()
        .unwrap_or_else(|e| panic!("cannot run python3 {script}: {e}; install Python 3"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    match out.status.code() {
        Some(0) => {
            let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
            assert!(report["checked"].as_u64().unwrap() > 1000, "{stdout}");
        }
        Some(2) => panic!(
            "the cross-check could not run: {stderr}\nInstall SciPy and statsmodels (python3 -m pip install scipy statsmodels), or run the tests with scripts/test, which installs them."
        ),
        code => panic!("pds disagrees with SciPy/statsmodels (exit {code:?}):\n{stdout}\n{stderr}"),
    }
}
