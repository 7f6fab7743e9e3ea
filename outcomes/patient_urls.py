"""The patient's own pages: no sign-in, reached only through their personal link."""

from django.urls import path

from outcomes.views import patient_voice

urlpatterns = [
    path("thanks/", patient_voice.patient_link_thanks, name="patient_link_thanks"),
    path("<str:token>/", patient_voice.patient_link, name="patient_link"),
]
