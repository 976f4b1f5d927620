from __future__ import annotations

import threading

import pyotp
from flask import Flask

from tests.builders import make_professional
from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import Account
from webapp.services import codes


def _code_at(account: Account, offset_steps: int) -> str:
    secret = codes.totp_secret(account)
    assert secret is not None
    return pyotp.TOTP(secret).at(clock.now().timestamp() + 30 * offset_steps)


class TestWindow:
    def test_current_and_adjacent_steps_are_accepted(self, app: Flask) -> None:
        for offset in (-1, 0, 1):
            pro = make_professional()
            assert codes.verify_totp(pro, _code_at(pro, offset))

    def test_two_steps_away_is_refused(self, app: Flask) -> None:
        pro = make_professional()
        assert not codes.verify_totp(pro, _code_at(pro, -2))
        assert not codes.verify_totp(pro, _code_at(pro, 2))

    def test_garbage_is_refused(self, app: Flask) -> None:
        pro = make_professional()
        for garbage in ("", "abcdef", "1234567", "12 34", "１２３４５６"):
            assert not codes.verify_totp(pro, garbage)

    def test_spaces_are_ignored(self, app: Flask) -> None:
        pro = make_professional()
        code = _code_at(pro, 0)
        assert codes.verify_totp(pro, f" {code[:3]} {code[3:]} ")


class TestReplay:
    def test_the_same_code_works_once(self, app: Flask) -> None:
        pro = make_professional()
        code = _code_at(pro, 0)
        assert codes.verify_totp(pro, code)
        db.session.commit()
        assert not codes.verify_totp(pro, code)

    def test_an_earlier_step_is_refused_after_a_later_one(self, app: Flask) -> None:
        pro = make_professional()
        assert codes.verify_totp(pro, _code_at(pro, 1))
        db.session.commit()
        assert not codes.verify_totp(pro, _code_at(pro, 0))

    def test_two_threads_with_the_same_code_exactly_one_wins(self, app: Flask) -> None:
        pro = make_professional()
        code = _code_at(pro, 0)
        account_id = pro.id
        db.session.commit()
        barrier = threading.Barrier(2)
        results: list[bool] = []
        lock = threading.Lock()

        def attempt() -> None:
            barrier.wait()
            with app.app_context():
                account = db.session.get(Account, account_id)
                assert account is not None
                won = codes.verify_totp(account, code)
                db.session.commit()
                with lock:
                    results.append(won)
                db.session.remove()

        threads = [threading.Thread(target=attempt) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert sorted(results) == [False, True]


class TestRecoveryCodes:
    def test_ten_codes_each_usable_once(self, app: Flask) -> None:
        pro = make_professional()
        shown = codes.issue_recovery_codes(pro)
        db.session.commit()
        assert len(shown) == 10 and len(set(shown)) == 10
        assert codes.burn_recovery_code(pro, shown[3])
        db.session.commit()
        assert not codes.burn_recovery_code(pro, shown[3])
        assert codes.remaining_recovery_codes(pro) == 9

    def test_input_is_forgiving(self, app: Flask) -> None:
        pro = make_professional()
        shown = codes.issue_recovery_codes(pro)
        assert codes.burn_recovery_code(pro, shown[0].lower().replace("-", " "))

    def test_new_codes_replace_the_old(self, app: Flask) -> None:
        pro = make_professional()
        old = codes.issue_recovery_codes(pro)
        codes.issue_recovery_codes(pro)
        assert not codes.burn_recovery_code(pro, old[0])

    def test_codes_are_not_stored_in_clear(self, app: Flask) -> None:
        from sqlalchemy import select

        from webapp.models import RecoveryCode

        pro = make_professional()
        shown = codes.issue_recovery_codes(pro)
        stored = db.session.scalars(select(RecoveryCode.code_hash)).all()
        assert all(s.startswith("$argon2id$") for s in stored)
        assert not any(c.replace("-", "") in s for c in shown for s in stored)
