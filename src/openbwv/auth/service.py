"""User accounts, sign-in with throttling, and tokens."""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from openbwv import audit, clock
from openbwv.audit import AuditAction, Target
from openbwv.auth.models import AuthToken, LoginFailure, UserAccount, UserRole
from openbwv.auth.passwords import hash_password, needs_rehash, verify_password
from openbwv.db import reading, refusing_duplicates, transaction
from openbwv.errors import Conflict, InvalidInput, NotFound, TooManyRequests, Unauthenticated
from openbwv.policy import Actor, Role

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,149}$")
MIN_PASSWORD_LENGTH = 8
MAX_PAIR_DELAY_SECONDS = 60
TOKEN_KINDS = ("api", "session")


@dataclass(frozen=True)
class LoginPolicy:
    """How sign-in is throttled; built from settings."""

    max_failures_per_account: int
    max_failures_per_address: int
    lockout: timedelta
    token_ttl: timedelta
    # OPENBWV_SECRET_KEY: typed usernames are counted and audited only as its HMAC.
    secret_key: bytes


def actor_for(user: UserAccount) -> Actor:
    return Actor(
        username=user.username,
        roles=frozenset(Role(r.role) for r in user.roles),
        user_id=user.id,
        officer_id=user.officer_id,
        must_change_password=user.must_change_password,
    )


def parse_roles(names: Iterable[str]) -> frozenset[Role]:
    """Roles from their names; an unknown name is an input error that lists the valid ones."""
    roles: set[Role] = set()
    for name in names:
        try:
            roles.add(Role(name.strip()))
        except ValueError:
            valid = ", ".join(sorted(Role))
            raise InvalidInput("roles", f"unknown role {name!r}; valid roles are {valid}") from None
    if not roles:
        raise InvalidInput("roles", "at least one role is required")
    return frozenset(roles)


def check_password_strength(password: str, *, field: str = "password") -> None:
    if not password.strip():
        raise InvalidInput(field, "the password must not be empty")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(field, f"the password must be at least {MIN_PASSWORD_LENGTH} characters")


# Roles that act on an officer's own records (their footage, their team): the account must be an
# officer's. Roles of people outside the force, who must say which organisation they are from.
ROLES_NEEDING_OFFICER = frozenset({Role.OFFICER, Role.SUPERVISOR})
ROLES_NEEDING_ORGANISATION = frozenset({Role.PROSECUTOR})


def check_account_shape(roles: frozenset[Role], *, has_officer: bool, organisation: str | None) -> None:
    """Refuse an account that contradicts itself: a force member's (an officer record) and an
    outside organisation's at once, an officer's role without an officer record, or an outside
    role without its organisation."""
    if has_officer and organisation:
        raise Conflict(
            "An account belongs either to a force member (a collar number) or to someone from an "
            "outside organisation, not both: leave one of them empty.",
            rule="officer_and_organisation",
        )
    needing_officer = sorted(roles & ROLES_NEEDING_OFFICER)
    if needing_officer and not has_officer:
        named = " and ".join(needing_officer)
        raise Conflict(
            f"The {named} role{'s need' if len(needing_officer) > 1 else ' needs'} an officer record: "
            "give the officer's collar number.",
            rule="role_needs_officer",
        )
    needing_organisation = sorted(roles & ROLES_NEEDING_ORGANISATION)
    if needing_organisation and not organisation:
        named = " and ".join(needing_organisation)
        raise Conflict(
            f"A {named} works for an outside organisation: say which one.",
            rule="role_needs_organisation",
        )


def create_user(
    db: Session,
    actor: Actor,
    *,
    username: str,
    password: str,
    roles: Iterable[str],
    display_name: str | None = None,
    officer_id: int | None = None,
    organisation: str | None = None,
) -> UserAccount:
    """Create an account with its roles; the password is stored only as an argon2 hash."""
    username = username.strip().lower()
    if not USERNAME_PATTERN.match(username):
        raise InvalidInput(
            "username",
            "use 2 to 150 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit",
        )
    role_set = parse_roles(roles)
    check_password_strength(password)
    # Hashed before the first query: on SQLite the transaction holds the write lock from then on.
    password_hash = hash_password(password)
    taken = Conflict(f"The username {username!r} is already taken.", rule="username_taken")
    has_account = Conflict("That officer already has a user account.", rule="officer_has_account")
    if db.scalar(select(UserAccount.id).where(UserAccount.username == username)) is not None:
        raise taken
    if officer_id is not None and db.scalar(
        select(UserAccount.id).where(UserAccount.officer_id == officer_id)
    ):
        raise has_account
    user = UserAccount(
        username=username,
        display_name=(display_name or username).strip(),
        password_hash=password_hash,
        officer_id=officer_id,
        organisation=organisation,
        roles=[UserRole(role=str(role)) for role in sorted(role_set)],
    )
    with refusing_duplicates(db, {"uq_user_account_username": taken, "uq_user_account_officer": has_account}):
        db.add(user)
    audit.record(
        db,
        actor=actor,
        action=AuditAction.AUTH_USER_CREATED,
        target=Target("user", username),
        details={"roles": sorted(role_set)},
    )
    return user


def get_user(db: Session, username: str) -> UserAccount | None:
    return db.scalar(select(UserAccount).where(UserAccount.username == username.strip().lower()))


def list_users(
    db: Session, *, search: str | None = None, role: Role | None = None, limit: int, offset: int
) -> tuple[list[UserAccount], int]:
    """Accounts ordered by username, optionally filtered by a name fragment or a role."""
    query = select(UserAccount)
    if search:
        pattern = f"%{search.strip().lower()}%"
        query = query.where(
            func.lower(UserAccount.username).like(pattern)
            | func.lower(UserAccount.display_name).like(pattern)
        )
    if role:
        query = query.where(UserAccount.roles.any(UserRole.role == str(role)))
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.scalars(query.order_by(UserAccount.username).limit(limit).offset(offset)).all()
    return list(rows), total


def set_roles(db: Session, actor: Actor, *, username: str, roles: Iterable[str]) -> UserAccount:
    """Replace an account's roles, recording the before and after."""
    user = get_user(db, username)
    if user is None:
        raise NotFound("user")
    role_set = parse_roles(roles)
    before = sorted(r.role for r in user.roles)
    if actor.user_id == user.id and Role.ADMIN in actor.roles and Role.ADMIN not in role_set:
        raise Conflict("You cannot remove your own admin role.", rule="own_admin_role")
    user.roles = [UserRole(role=str(role)) for role in sorted(role_set)]
    db.flush()
    audit.record(
        db,
        actor=actor,
        action=AuditAction.AUTH_USER_ROLES_CHANGED,
        target=Target("user", user.username),
        details={"before": before, "after": sorted(role_set)},
    )
    return user


def disable_user(db: Session, actor: Actor, *, username: str) -> UserAccount:
    """Stop an account signing in; its tokens stop working at once, its history stays."""
    user = get_user(db, username)
    if user is None:
        raise NotFound("user")
    if user.id == actor.user_id:
        raise Conflict("You cannot disable your own account.", rule="own_account")
    if user.is_active:
        user.is_active = False
        audit.record(
            db, actor=actor, action=AuditAction.AUTH_USER_DISABLED, target=Target("user", user.username)
        )
    return user


def enable_user(db: Session, actor: Actor, *, username: str) -> UserAccount:
    """Let a disabled account sign in again, with the roles it had."""
    user = get_user(db, username)
    if user is None:
        raise NotFound("user")
    if not user.is_active:
        user.is_active = True
        audit.record(
            db, actor=actor, action=AuditAction.AUTH_USER_ENABLED, target=Target("user", user.username)
        )
    return user


def _revoke_tokens_of(db: Session, user_id: int) -> None:
    db.execute(
        update(AuthToken)
        .where(AuthToken.user_id == user_id, AuthToken.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )


def set_temporary_password(db: Session, actor: Actor, *, username: str, password: str) -> UserAccount:
    """Set a temporary password the user must change at their next sign-in; their sessions and
    tokens end. The audit event names the account, never the password."""
    check_password_strength(password)
    # Hashed before the first query: on SQLite the transaction holds the write lock from then on.
    password_hash = hash_password(password)
    user = get_user(db, username)
    if user is None:
        raise NotFound("user")
    if user.id == actor.user_id:
        raise Conflict(
            "Change your own password with Change password, not as a temporary one.", rule="own_password"
        )
    user.password_hash = password_hash
    user.must_change_password = True
    _revoke_tokens_of(db, user.id)
    audit.record(
        db, actor=actor, action=AuditAction.AUTH_PASSWORD_RESET, target=Target("user", user.username)
    )
    return user


def change_password(
    factory: sessionmaker[Session],
    actor: Actor,
    *,
    current_password: str,
    new_password: str,
    address: str,
    policy: LoginPolicy,
) -> None:
    """The caller changes their own password, giving the current one; a temporary password stops
    being one. As in ``sign_in``, argon2 works outside any transaction; the audit event keeps no
    password. A wrong current password counts as a failed sign-in of the account (so a stolen
    session cannot guess it faster than the sign-in form) and is recorded though the change is
    refused."""
    check_password_strength(new_password, field="new_password")
    key = typed_username_key(policy, actor.username)
    with reading(factory) as db:
        user = db.get(UserAccount, actor.user_id) if actor.user_id is not None else None
        if user is None or not user.is_active:
            raise NotFound("user")
        old_hash = user.password_hash
        refusal = _refusal(db, key=key, address=address, policy=policy)
    if refusal:
        raise TooManyRequests(refusal.message, retry_after=refusal.retry_after)
    target = Target("user", actor.username)
    if not verify_password(old_hash, current_password):
        with transaction(factory) as db:
            db.add(LoginFailure(username=key, client_address=address))
            audit.record(
                db,
                actor=actor,
                action=AuditAction.AUTH_PASSWORD_CHANGE_REFUSED,
                target=target,
                details={"refused": "current_password_wrong"},
            )
        raise Conflict("Your current password is not the one you typed.", rule="current_password_wrong")
    if verify_password(old_hash, new_password):
        raise Conflict("The new password must differ from the current one.", rule="password_unchanged")
    new_hash = hash_password(new_password)
    with transaction(factory) as db:
        user = db.get(UserAccount, actor.user_id)
        if user is None or user.password_hash != old_hash:
            raise Conflict(
                "Your password was changed meanwhile; sign in again and retry.",
                rule="password_changed_meanwhile",
            )
        was_temporary = user.must_change_password
        user.password_hash = new_hash
        user.must_change_password = False
        db.execute(delete(LoginFailure).where(LoginFailure.username == key))
        audit.record(
            db,
            actor=actor,
            action=AuditAction.AUTH_PASSWORD_CHANGED,
            target=target,
            details={"was_temporary": was_temporary},
        )


def _token_digest(raw_token: str) -> str:
    return hashlib.sha256(raw_token.encode()).hexdigest()


def issue_token(db: Session, user: UserAccount, *, kind: str, ttl: timedelta) -> str:
    """A new random token for ``user``; the caller gets the only copy of its raw value."""
    if kind not in TOKEN_KINDS:
        raise ValueError(f"unknown token kind {kind!r}")
    raw_token = secrets.token_urlsafe(32)
    now = clock.now()
    db.add(AuthToken(token_hash=_token_digest(raw_token), user_id=user.id, kind=kind, expires_at=now + ttl))
    return raw_token


def resolve_token(db: Session, raw_token: str) -> Actor | None:
    """The actor a live token belongs to, or None if it is unknown, expired, revoked or disabled."""
    row = db.execute(
        select(AuthToken, UserAccount)
        .join(UserAccount, UserAccount.id == AuthToken.user_id)
        .where(AuthToken.token_hash == _token_digest(raw_token))
    ).first()
    if row is None:
        return None
    token, user = row
    if token.revoked_at is not None or token.expires_at <= clock.now() or not user.is_active:
        return None
    return actor_for(user)


def revoke_token(db: Session, raw_token: str) -> None:
    token = db.scalar(select(AuthToken).where(AuthToken.token_hash == _token_digest(raw_token)))
    if token is not None and token.revoked_at is None:
        token.revoked_at = clock.now()


def end_session(db: Session, actor: Actor, raw_token: str) -> None:
    """Sign out: the session token stops working at once."""
    revoke_token(db, raw_token)
    audit.record(db, actor=actor, action=AuditAction.AUTH_LOGOUT, target=Target("user", actor.username))


def typed_username_key(policy: LoginPolicy, typed: str) -> str:
    """A keyed hash of what was typed in the username box: what the failure counts and the audit log
    keep of a name that matches no account, since people type passwords there too."""
    return hmac.new(policy.secret_key, typed.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class _Refusal:
    reason: str
    message: str
    retry_after: int


def _refusal(db: Session, *, key: str, address: str, policy: LoginPolicy) -> _Refusal | None:
    """Why sign-in is refused without checking the password, or None.

    A username is locked after ``max_failures_per_account`` failures, from any address. A busy
    address (``max_failures_per_address`` failures) only slows each username that failed from it,
    doubling the wait after each of its failures: everyone else behind that address (a whole
    station behind one proxy) still signs in.
    """
    now = clock.now()
    recent = (LoginFailure.failed_at >= now - policy.lockout,)
    minutes = int(policy.lockout.total_seconds() // 60)
    account = db.scalar(select(func.count()).where(LoginFailure.username == key, *recent)) or 0
    if account >= policy.max_failures_per_account:
        return _Refusal(
            "account",
            f"Too many failed sign-ins for this account; try again in {minutes} minutes.",
            int(policy.lockout.total_seconds()),
        )
    from_address = db.scalar(select(func.count()).where(LoginFailure.client_address == address, *recent))
    if (from_address or 0) < policy.max_failures_per_address:
        return None
    pair, last = db.execute(
        select(func.count(), func.max(LoginFailure.failed_at)).where(
            LoginFailure.username == key, LoginFailure.client_address == address, *recent
        )
    ).one()
    if not pair:
        return None
    wait = min(2**pair, MAX_PAIR_DELAY_SECONDS) - (now - last).total_seconds()
    if wait <= 0:
        return None
    seconds = math.ceil(wait)
    return _Refusal(
        "address",
        f"Too many failed sign-ins from this address; try again in {seconds} seconds.",
        seconds,
    )


@dataclass(frozen=True)
class _Account:
    id: int
    password_hash: str
    is_active: bool


def sign_in(
    factory: sessionmaker[Session],
    *,
    username: str,
    password: str,
    address: str,
    kind: str,
    policy: LoginPolicy,
) -> tuple[str, Actor]:
    """Check a username and password and issue a token.

    Three short transactions, none open while argon2 works (a tenth of a second, on purpose): read
    the throttle and the account, check the password, write the outcome. Failures and lockouts are
    written before the refusal is raised, so they survive it. Every answer but a lockout checks a
    password, so an unknown, disabled or existing account all take as long; the same answer is
    given for each, and the lockout counts typed usernames, so none tells a guesser whether an
    account exists.
    """
    typed = username.strip().lower()[:150]
    key = typed_username_key(policy, typed)
    with transaction(factory) as db:
        refusal = _refusal(db, key=key, address=address, policy=policy)
        user = get_user(db, typed)
        account = _Account(user.id, user.password_hash, user.is_active) if user else None
    # A name that matches no account may be a password typed in the wrong box: keep only its hash.
    shown = typed if account else f"unknown:{key[:32]}"
    anonymous = Actor(username=shown)
    target = Target("user", shown)
    if refusal:
        audit.record_now(
            factory,
            actor=anonymous,
            action=AuditAction.AUTH_LOGIN_FAILED,
            target=target,
            details={"refused": f"locked_out_{refusal.reason}"},
        )
        raise TooManyRequests(refusal.message, retry_after=refusal.retry_after)
    matches = verify_password(account.password_hash if account else None, password)
    if account is not None and account.is_active and matches:
        new_hash = hash_password(password) if needs_rehash(account.password_hash) else None
        with transaction(factory) as db:
            user = db.get(UserAccount, account.id)
            if user is not None and user.is_active:
                if new_hash:
                    user.password_hash = new_hash
                db.execute(delete(LoginFailure).where(LoginFailure.username == key))
                token = issue_token(db, user, kind=kind, ttl=policy.token_ttl)
                actor = actor_for(user)
                audit.record(db, actor=actor, action=AuditAction.AUTH_LOGIN_SUCCEEDED, target=target)
                return token, actor
    with transaction(factory) as db:
        db.add(LoginFailure(username=key, client_address=address))
        db.flush()
        audit.record(db, actor=anonymous, action=AuditAction.AUTH_LOGIN_FAILED, target=target)
        now_refused = _refusal(db, key=key, address=address, policy=policy)
        if now_refused and now_refused.reason == "account":
            audit.record(
                db,
                actor=anonymous,
                action=AuditAction.AUTH_LOGIN_LOCKED_OUT,
                target=target,
                details={"minutes": int(policy.lockout.total_seconds() // 60)},
            )
    raise Unauthenticated("Incorrect username or password.")
