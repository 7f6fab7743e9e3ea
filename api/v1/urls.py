from django.urls import path

from api.v1 import schema, views

app_name = "api_v1"

urlpatterns = [
    path("referrals/", views.ReferralList.as_view(), name="referral_list"),
    path("referrals/<int:pk>/", views.ReferralDetail.as_view(), name="referral_detail"),
    path("referrals/<int:pk>/accept/", views.ReferralAccept.as_view(), name="referral_accept"),
    path("referrals/<int:pk>/decline/", views.ReferralDecline.as_view(), name="referral_decline"),
    path("referrals/<int:pk>/in-progress/", views.ReferralInProgress.as_view(), name="referral_in_progress"),
    path("referrals/<int:pk>/close/", views.ReferralClose.as_view(), name="referral_close"),
    path("schema/", schema.schema_view, name="schema"),
    path("docs/", schema.docs_view, name="docs"),
]
