import factory

from cea.accounts.models import Team, User
from cea.accounts.services import user_create

PASSWORD = "correct-horse-battery-staple"


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Team {n}")


class UserFactory(factory.django.DjangoModelFactory):
    """Users made through ``user_create`` so that staff flags follow the role as in production."""

    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    role = "agent"
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")

    @classmethod
    def _create(cls, model_class, *args, teams=(), **kwargs):
        return user_create(password=PASSWORD, teams=teams, validate=False, **kwargs)
