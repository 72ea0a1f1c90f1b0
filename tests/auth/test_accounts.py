"""Accounts and tokens at the service: who may sign in, how long a token lives, sign-out and
revocation, the admin's own-account rules, and the audit event each change writes."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from openbwv.audit.models import AuditEvent
from openbwv.auth import passwords
from openbwv.auth import service as auth
from openbwv.auth.models import AuthToken, LoginFailure
from openbwv.clock import FixedClock
from openbwv.db import transaction
from openbwv.errors import Conflict, InvalidInput, NotFound, TooManyRequests, Unauthenticated
from openbwv.policy import SYSTEM, Actor, Role
from tests.auth.test_service import POLICY
from tests.builders import DEFAULT_PASSWORD, make_officer, make_user

ADDRESS = "192.0.2.1"


def _events(db: Session, action: str) -> list[AuditEvent]:
    return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def _admin(db: Session, username: str = "root") -> Actor:
    return auth.actor_for(make_user(db, username=username, roles=[Role.ADMIN]))


class TestResolveToken:
    def test_a_live_token_names_its_user_roles_and_officer(self, db: Session) -> None:
        officer = make_officer(db, collar="4321")
        user = make_user(db, username="pc4321", roles=[Role.OFFICER, Role.SUPERVISOR], officer=officer)
        raw = auth.issue_token(db, user, kind="api", ttl=timedelta(hours=1))
        actor = auth.resolve_token(db, raw)
        assert actor == Actor(
            username="pc4321",
            roles=frozenset({Role.OFFICER, Role.SUPERVISOR}),
            user_id=user.id,
            officer_id=officer.id,
        )

    def test_an_unknown_token_resolves_to_no_one(self, db: Session) -> None:
        make_user(db, username="someone")
        assert auth.resolve_token(db, "not-a-token") is None

    def test_a_token_works_until_the_last_second_of_its_lifetime(
        self, db: Session, clock: FixedClock
    ) -> None:
        user = make_user(db, username="shift")
        raw = auth.issue_token(db, user, kind="session", ttl=timedelta(hours=8))
        clock.advance(timedelta(hours=8) - timedelta(seconds=1))
        assert auth.resolve_token(db, raw) is not None
        clock.advance(timedelta(seconds=1))
        assert auth.resolve_token(db, raw) is None

    def test_a_token_of_a_disabled_account_stops_working(self, db: Session) -> None:
        user = make_user(db, username="leaver")
        raw = auth.issue_token(db, user, kind="api", ttl=timedelta(hours=1))
        auth.disable_user(db, SYSTEM, username="leaver")
        assert auth.resolve_token(db, raw) is None

    def test_a_token_carries_256_bits_of_randomness(self, db: Session) -> None:
        user = make_user(db, username="entropy")
        raw = auth.issue_token(db, user, kind="api", ttl=timedelta(hours=1))
        assert len(base64.urlsafe_b64decode(raw + "=")) == 32

    def test_an_unknown_kind_of_token_is_refused(self, db: Session) -> None:
        user = make_user(db, username="kinds")
        with pytest.raises(ValueError, match="'cookie'"):
            auth.issue_token(db, user, kind="cookie", ttl=timedelta(hours=1))
        assert auth.issue_token(db, user, kind="session", ttl=timedelta(hours=1))


class TestEndSession:
    def test_signing_out_stops_the_token_at_once_and_is_audited(self, db: Session) -> None:
        user = make_user(db, username="going")
        raw = auth.issue_token(db, user, kind="session", ttl=timedelta(hours=8))
        other = auth.issue_token(db, user, kind="session", ttl=timedelta(hours=8))
        actor = auth.resolve_token(db, raw)
        assert actor is not None
        auth.end_session(db, actor, raw)
        assert auth.resolve_token(db, raw) is None
        # Signing out on one browser leaves the other signed in.
        assert auth.resolve_token(db, other) is not None
        [event] = _events(db, "auth:session:ended")
        assert (event.actor_username, event.actor_user_id) == ("going", user.id)
        assert (event.target_type, event.target_id) == ("user", "going")

    def test_a_revoked_token_keeps_the_moment_it_was_first_revoked(
        self, db: Session, clock: FixedClock
    ) -> None:
        user = make_user(db, username="twice")
        raw = auth.issue_token(db, user, kind="api", ttl=timedelta(hours=1))
        auth.revoke_token(db, raw)
        first = clock.now()
        clock.advance(timedelta(minutes=5))
        auth.revoke_token(db, raw)
        auth.revoke_token(db, "no-such-token")
        revoked = db.scalar(select(AuthToken.revoked_at).where(AuthToken.user_id == user.id))
        assert revoked is not None and revoked.replace(tzinfo=first.tzinfo) == first
        assert auth.resolve_token(db, raw) is None


class TestCreateUser:
    def test_the_username_is_trimmed_and_lower_cased_and_the_creation_audited(self, db: Session) -> None:
        admin = _admin(db)
        user = auth.create_user(
            db, admin, username="  J.Smith ", password=DEFAULT_PASSWORD, roles=["supervisor", "officer"]
        )
        assert user.username == "j.smith"
        assert user.display_name == "j.smith"
        assert [r.role for r in user.roles] == ["officer", "supervisor"]
        assert user.password_hash != DEFAULT_PASSWORD
        [event] = _events(db, "auth:user:created")[-1:]
        assert (event.actor_username, event.target_type, event.target_id) == ("root", "user", "j.smith")
        assert event.details == {"roles": ["officer", "supervisor"]}

    def test_an_outside_users_organisation_is_kept(self, db: Session) -> None:
        user = auth.create_user(
            db,
            SYSTEM,
            username="cps.lawyer",
            password=DEFAULT_PASSWORD,
            roles=["prosecutor"],
            organisation="CPS",
        )
        assert (user.organisation, user.officer_id) == ("CPS", None)

    def test_a_display_name_is_kept_trimmed(self, db: Session) -> None:
        user = auth.create_user(
            db,
            SYSTEM,
            username="named",
            password=DEFAULT_PASSWORD,
            roles=["officer"],
            display_name=" Ann Lee ",
        )
        assert user.display_name == "Ann Lee"

    @pytest.mark.parametrize("username", ["a", "-lead", "has space", "UPPER!", "x" * 151])
    def test_a_malformed_username_is_refused(self, db: Session, username: str) -> None:
        with pytest.raises(InvalidInput) as refused:
            auth.create_user(db, SYSTEM, username=username, password=DEFAULT_PASSWORD, roles=["officer"])
        assert refused.value.message == (
            "username: use 2 to 150 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit"
        )

    @pytest.mark.parametrize("username", ["ab", "a.b_c-9", "x" * 150])
    def test_usernames_at_the_limits_are_accepted(self, db: Session, username: str) -> None:
        assert auth.create_user(db, SYSTEM, username=username, password=DEFAULT_PASSWORD, roles=["officer"])

    def test_a_taken_username_is_a_conflict_naming_it(self, db: Session) -> None:
        make_user(db, username="taken")
        with pytest.raises(Conflict) as refused:
            auth.create_user(db, SYSTEM, username="Taken", password=DEFAULT_PASSWORD, roles=["officer"])
        assert refused.value.rule == "username_taken"
        assert refused.value.message == "The username 'taken' is already taken."

    def test_an_officer_has_at_most_one_account(self, db: Session) -> None:
        officer = make_officer(db, collar="5555")
        make_user(db, username="first", officer=officer)
        with pytest.raises(Conflict) as refused:
            auth.create_user(
                db,
                SYSTEM,
                username="second",
                password=DEFAULT_PASSWORD,
                roles=["officer"],
                officer_id=officer.id,
            )
        assert (refused.value.rule, refused.value.message) == (
            "officer_has_account",
            "That officer already has a user account.",
        )


class TestParseRoles:
    def test_names_are_trimmed(self) -> None:
        assert auth.parse_roles([" admin ", "officer"]) == {Role.ADMIN, Role.OFFICER}

    def test_an_unknown_role_lists_the_valid_ones(self) -> None:
        with pytest.raises(InvalidInput) as refused:
            auth.parse_roles(["officer", "chief"])
        assert refused.value.field == "roles"
        assert "'chief'" in refused.value.message
        assert ", ".join(sorted(Role)) in refused.value.message

    def test_no_role_at_all_is_refused(self) -> None:
        with pytest.raises(InvalidInput) as refused:
            auth.parse_roles([])
        assert refused.value.message == "roles: at least one role is required"


class TestPasswordStrength:
    @pytest.mark.parametrize(
        ("password", "says"),
        [
            ("        ", "the password must not be empty"),
            ("7 chars", "the password must be at least 8 characters"),
        ],
    )
    def test_an_empty_or_short_password_is_refused(self, password: str, says: str) -> None:
        with pytest.raises(InvalidInput) as refused:
            auth.check_password_strength(password)
        assert refused.value.message == f"password: {says}"

    def test_eight_characters_are_enough(self) -> None:
        auth.check_password_strength("8 chars!")


class TestListUsers:
    def test_search_matches_username_or_display_name_in_any_case(self, db: Session) -> None:
        auth.create_user(
            db, SYSTEM, username="zed", password=DEFAULT_PASSWORD, roles=["officer"], display_name="Ann Lee"
        )
        auth.create_user(
            db,
            SYSTEM,
            username="lee.b",
            password=DEFAULT_PASSWORD,
            roles=["auditor"],
            display_name="Bo Brown",
        )
        auth.create_user(db, SYSTEM, username="other", password=DEFAULT_PASSWORD, roles=["auditor"])
        rows, total = auth.list_users(db, search=" LEE ", limit=10, offset=0)
        assert ([u.username for u in rows], total) == (["lee.b", "zed"], 2)
        rows, total = auth.list_users(db, role=Role.AUDITOR, limit=1, offset=1)
        assert ([u.username for u in rows], total) == (["other"], 2)
        assert auth.list_users(db, search="nobody", limit=10, offset=0) == ([], 0)


class TestSetRoles:
    def test_a_role_change_records_before_and_after(self, db: Session) -> None:
        admin = _admin(db)
        make_user(db, username="moved", roles=[Role.OFFICER])
        user = auth.set_roles(db, admin, username="moved", roles=["supervisor", "officer"])
        assert sorted(r.role for r in user.roles) == ["officer", "supervisor"]
        [event] = _events(db, "auth:user:roles_changed")
        assert (event.actor_username, event.target_type, event.target_id) == ("root", "user", "moved")
        assert event.details == {"before": ["officer"], "after": ["officer", "supervisor"]}

    def test_an_admin_cannot_remove_their_own_admin_role(self, db: Session) -> None:
        admin = _admin(db)
        with pytest.raises(Conflict) as refused:
            auth.set_roles(db, admin, username="root", roles=["officer"])
        assert (refused.value.rule, refused.value.message) == (
            "own_admin_role",
            "You cannot remove your own admin role.",
        )
        assert _events(db, "auth:user:roles_changed") == []

    def test_an_admin_may_add_roles_to_their_own_account(self, db: Session) -> None:
        admin = _admin(db)
        user = auth.set_roles(db, admin, username="root", roles=["admin", "auditor"])
        assert sorted(r.role for r in user.roles) == ["admin", "auditor"]

    def test_an_admin_may_remove_another_admins_admin_role(self, db: Session) -> None:
        admin = _admin(db)
        _admin(db, "deputy")
        user = auth.set_roles(db, admin, username="deputy", roles=["auditor"])
        assert [r.role for r in user.roles] == ["auditor"]

    def test_an_unknown_user_is_not_found(self, db: Session) -> None:
        with pytest.raises(NotFound, match=r"^No such user\.$"):
            auth.set_roles(db, _admin(db), username="ghost", roles=["officer"])


class TestDisableUser:
    def test_disabling_is_audited_once(self, db: Session) -> None:
        admin = _admin(db)
        make_user(db, username="leaving")
        auth.disable_user(db, admin, username="leaving")
        user = auth.disable_user(db, admin, username="leaving")
        assert user.is_active is False
        [event] = _events(db, "auth:user:disabled")
        assert (event.actor_username, event.target_type, event.target_id) == ("root", "user", "leaving")

    def test_an_admin_cannot_disable_their_own_account(self, db: Session) -> None:
        admin = _admin(db)
        with pytest.raises(Conflict) as refused:
            auth.disable_user(db, admin, username="root")
        assert (refused.value.rule, refused.value.message) == (
            "own_account",
            "You cannot disable your own account.",
        )

    def test_an_unknown_user_is_not_found(self, db: Session) -> None:
        with pytest.raises(NotFound, match=r"^No such user\.$"):
            auth.disable_user(db, _admin(db), username="ghost")

    def test_an_unknown_user_is_not_enabled_either(self, db: Session) -> None:
        with pytest.raises(NotFound, match=r"^No such user\.$"):
            auth.enable_user(db, _admin(db), username="ghost")


def _sign_in(
    factory: sessionmaker[Session], username: str, password: str = DEFAULT_PASSWORD, **kw: str
) -> str:
    token, _ = auth.sign_in(
        factory,
        username=username,
        password=password,
        address=kw.get("address", ADDRESS),
        kind=kw.get("kind", "api"),
        policy=POLICY,
    )
    return token


def _fail(factory: sessionmaker[Session], username: str, times: int = 1, address: str = ADDRESS) -> None:
    for _ in range(times):
        with pytest.raises(Unauthenticated, match="Incorrect username or password"):
            _sign_in(factory, username, "wrong guess", address=address)


class TestSignIn:
    def test_a_good_password_gives_a_working_token_of_its_kind_and_is_audited(
        self, factory: sessionmaker[Session], clock: FixedClock
    ) -> None:
        with transaction(factory) as db:
            make_user(db, username="good")
        token = _sign_in(factory, " Good ", kind="session")
        with factory() as db:
            actor = auth.resolve_token(db, token)
            assert actor is not None and actor.username == "good"
            kind, expires = db.execute(select(AuthToken.kind, AuthToken.expires_at)).one()
            assert kind == "session"
            assert expires.replace(tzinfo=None) == (clock.now() + POLICY.token_ttl).replace(tzinfo=None)
            [event] = _events(db, "auth:login:succeeded")
            assert (event.actor_username, event.target_type, event.target_id) == ("good", "user", "good")

    def test_a_successful_sign_in_clears_the_accounts_failures(self, factory: sessionmaker[Session]) -> None:
        with transaction(factory) as db:
            make_user(db, username="clumsy")
        _fail(factory, "clumsy", 4)
        _sign_in(factory, "clumsy")
        # Had the four failures stayed, two more would lock the account.
        _fail(factory, "clumsy", 2)
        assert _sign_in(factory, "clumsy")

    def test_the_fifth_failure_locks_the_account_and_says_for_how_long(
        self, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            make_user(db, username="locked")
        _fail(factory, "locked", 4)
        with factory() as db:
            assert _events(db, "auth:login:locked_out") == []
        _fail(factory, "locked")
        with factory() as db:
            [event] = _events(db, "auth:login:locked_out")
            assert (event.target_id, event.details) == ("locked", {"minutes": 15})
        with pytest.raises(TooManyRequests, match="try again in 15 minutes") as refused:
            _sign_in(factory, "locked")
        assert refused.value.retry_after == 15 * 60
        with factory() as db:
            last = _events(db, "auth:login:failed")[-1]
            assert (last.target_id, last.details) == ("locked", {"refused": "locked_out_account"})
            # The refusal checked no password and so added no failure.
            assert db.scalar(select(LoginFailure.id).order_by(LoginFailure.id.desc()).offset(5)) is None

    def test_failures_older_than_the_lockout_window_do_not_count(
        self, factory: sessionmaker[Session], clock: FixedClock
    ) -> None:
        with transaction(factory) as db:
            make_user(db, username="slow")
        _fail(factory, "slow", 4)
        clock.advance(timedelta(minutes=16))
        _fail(factory, "slow", 4)
        assert _sign_in(factory, "slow")

    def test_a_disabled_account_is_refused_like_a_wrong_password(
        self, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            make_user(db, username="gone")
            auth.disable_user(db, SYSTEM, username="gone")
        with pytest.raises(Unauthenticated, match="Incorrect username or password"):
            _sign_in(factory, "gone")
        with factory() as db:
            assert db.scalar(select(AuthToken.id)) is None

    def test_a_busy_address_waits_double_each_failure_of_a_username(
        self, factory: sessionmaker[Session], clock: FixedClock
    ) -> None:
        policy = auth.LoginPolicy(**{**POLICY.__dict__, "max_failures_per_address": 3})
        with transaction(factory) as db:
            make_user(db, username="target")

        def attempt(username: str, password: str) -> str:
            try:
                auth.sign_in(
                    factory, username=username, password=password, address=ADDRESS, kind="api", policy=policy
                )
            except TooManyRequests as refused:
                return f"wait {refused.retry_after}"
            except Unauthenticated:
                return "refused"
            return "signed in"

        assert [attempt("target", "bad") for _ in range(3)] == ["refused"] * 3
        # Three failures from this address: the name waits 2**3 s after its last failure.
        assert attempt("target", DEFAULT_PASSWORD) == "wait 8"
        clock.advance(timedelta(seconds=7, milliseconds=500))
        assert attempt("target", DEFAULT_PASSWORD) == "wait 1"
        clock.advance(timedelta(milliseconds=500))
        assert attempt("target", DEFAULT_PASSWORD) == "signed in"


def _outcome(
    factory: sessionmaker[Session], username: str, password: str, address: str, policy: auth.LoginPolicy
) -> str:
    try:
        auth.sign_in(
            factory, username=username, password=password, address=address, kind="api", policy=policy
        )
    except TooManyRequests as refused:
        return f"wait {refused.retry_after}"
    except Unauthenticated:
        return "refused"
    return "signed in"


BUSY = "198.51.100.7"
QUIET = "203.0.113.9"


class TestThrottleCounts:
    """What each throttle counts: this account's failures, this address's, this name from this address,
    each within the lockout window."""

    def test_a_policy_of_one_failure_still_lets_a_clean_account_sign_in(
        self, factory: sessionmaker[Session]
    ) -> None:
        strict = auth.LoginPolicy(
            **{**POLICY.__dict__, "max_failures_per_account": 1, "max_failures_per_address": 1}
        )
        with transaction(factory) as db:
            make_user(db, username="clean")
        assert _outcome(factory, "clean", DEFAULT_PASSWORD, ADDRESS, strict) == "signed in"

    def test_failures_from_other_addresses_do_not_make_this_one_busy(
        self, factory: sessionmaker[Session]
    ) -> None:
        policy = auth.LoginPolicy(**{**POLICY.__dict__, "max_failures_per_address": 3})
        with transaction(factory) as db:
            make_user(db, username="target")
        for name in ("a", "b", "c"):
            assert _outcome(factory, name, "x", BUSY, policy) == "refused"
        assert _outcome(factory, "target", "x", QUIET, policy) == "refused"
        assert _outcome(factory, "target", DEFAULT_PASSWORD, QUIET, policy) == "signed in"

    def test_a_name_that_failed_elsewhere_is_not_slowed_at_a_busy_address(
        self, factory: sessionmaker[Session]
    ) -> None:
        policy = auth.LoginPolicy(**{**POLICY.__dict__, "max_failures_per_address": 3})
        with transaction(factory) as db:
            make_user(db, username="target")
        for name in ("a", "b", "c"):
            assert _outcome(factory, name, "x", BUSY, policy) == "refused"
        for _ in range(2):
            assert _outcome(factory, "target", "x", QUIET, policy) == "refused"
        assert _outcome(factory, "target", DEFAULT_PASSWORD, BUSY, policy) == "signed in"

    def test_an_addresss_failures_before_the_window_do_not_make_it_busy(
        self, factory: sessionmaker[Session], clock: FixedClock
    ) -> None:
        policy = auth.LoginPolicy(**{**POLICY.__dict__, "max_failures_per_address": 3})
        with transaction(factory) as db:
            make_user(db, username="target")
        for name in ("a", "b", "c"):
            assert _outcome(factory, name, "x", BUSY, policy) == "refused"
        clock.advance(timedelta(minutes=16))
        assert _outcome(factory, "target", "x", BUSY, policy) == "refused"
        assert _outcome(factory, "target", DEFAULT_PASSWORD, BUSY, policy) == "signed in"

    def test_a_names_failures_before_the_window_do_not_slow_it(
        self, factory: sessionmaker[Session], clock: FixedClock
    ) -> None:
        policy = auth.LoginPolicy(
            **{**POLICY.__dict__, "max_failures_per_address": 3, "max_failures_per_account": 10,
               "lockout": timedelta(seconds=30)}
        )  # fmt: skip
        with transaction(factory) as db:
            make_user(db, username="target")
        # Five failures while the address was quiet: 2**5 s would still be 1 s to wait 31 s on.
        lax = auth.LoginPolicy(**{**policy.__dict__, "max_failures_per_address": 100})
        for _ in range(5):
            assert _outcome(factory, "target", "x", BUSY, lax) == "refused"
        clock.advance(timedelta(seconds=31))
        for name in ("a", "b", "c"):
            assert _outcome(factory, name, "x", BUSY, policy) == "refused"
        assert _outcome(factory, "target", DEFAULT_PASSWORD, BUSY, policy) == "signed in"

    def test_a_slowed_sign_in_is_audited_as_refused_for_the_address(
        self, factory: sessionmaker[Session]
    ) -> None:
        policy = auth.LoginPolicy(**{**POLICY.__dict__, "max_failures_per_address": 1})
        with transaction(factory) as db:
            make_user(db, username="target")
        assert _outcome(factory, "target", "x", BUSY, policy) == "refused"
        assert _outcome(factory, "target", DEFAULT_PASSWORD, BUSY, policy) == "wait 2"
        with factory() as db:
            last = _events(db, "auth:login:failed")[-1]
            assert (last.target_id, last.details) == ("target", {"refused": "locked_out_address"})
            assert _events(db, "auth:login:locked_out") == []


class TestWhatIsTyped:
    def test_a_typed_name_is_cut_at_150_characters(self, factory: sessionmaker[Session]) -> None:
        longest = "x" * 150
        with transaction(factory) as db:
            make_user(db, username=longest)
        assert _outcome(factory, longest + "y", DEFAULT_PASSWORD, ADDRESS, POLICY) == "signed in"

    def test_an_unknown_name_is_kept_as_128_bits_of_its_keyed_hash(
        self, factory: sessionmaker[Session]
    ) -> None:
        assert _outcome(factory, "nobody", "x", ADDRESS, POLICY) == "refused"
        with factory() as db:
            [event] = _events(db, "auth:login:failed")
        key = auth.typed_username_key(POLICY, "nobody")
        assert event.target_id == f"unknown:{key[:32]}"

    def test_a_hash_made_with_old_parameters_is_replaced_at_sign_in(
        self, factory: sessionmaker[Session]
    ) -> None:
        old = PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1).hash(DEFAULT_PASSWORD)
        with transaction(factory) as db:
            user = make_user(db, username="oldhash")
            user.password_hash = old
        assert _outcome(factory, "oldhash", DEFAULT_PASSWORD, ADDRESS, POLICY) == "signed in"
        with factory() as db:
            stored = auth.get_user(db, "oldhash")
            assert stored is not None and stored.password_hash != old
            assert not passwords.needs_rehash(stored.password_hash)
        assert _outcome(factory, "oldhash", DEFAULT_PASSWORD, ADDRESS, POLICY) == "signed in"
