"""The environment a production process needs (hjp.settings.production refuses to start without each of these),
for tests that start `manage.py` or gunicorn in a subprocess with production settings. The addresses are
placeholders where the test never connects."""

PRODUCTION_ENVIRONMENT = {
    "DJANGO_SETTINGS_MODULE": "hjp.settings.production",
    "SECRET_KEY": "q8#Lr2!vKz9@Tm4&Wn7^Hs3*Bd6(Fg1)Jc5_Ye0+Ua8=Xi4-Pk",
    "DATABASE_URL": "postgres://hjp:secret@db.invalid:5432/hjp",
    "REDIS_URL": "redis://redis.invalid:6379/0",
    "ALLOWED_HOSTS": "hjp.example.org",
    "TRUSTED_PROXY_COUNT": "1",
    "EVIDENCE_ENCRYPTION_KEYS": "ZGVwbG95LWNoZWNrLW9ubHktbm90LWEtcmVhbC1rZXk=",
}
