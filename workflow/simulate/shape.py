"""The shape of a simulated city, and the words its streets, people and requests are made of."""

from __future__ import annotations

from dataclasses import dataclass, replace

# Beijing's 12345 line in 2023: 21.4 M requests over 343 streets, about 60 k a day, 175 per street.
REQUESTS_PER_STREET_DAY = 175.0


@dataclass(frozen=True)
class CityShape:
    """How big the city is. Per-community figures are means: each community gets a population of
    3 k to 40 k residents, and its members, resident accounts and requests follow that size (a
    community has 20 to 500 members). ``requests`` is the total over ``months``; None means
    Beijing's rate, 175 a street a day. ``households_per_building``: the doors on the visit register
    (a quarter more or less a building; 24 is a six-floor block of two units). ``scaled``
    multiplies the streets and the requests."""

    streets: int = 4
    communities_per_street: int = 8
    grids_per_community: int = 5
    buildings_per_grid: int = 6
    staff_per_community: int = 4
    officers_per_street: int = 3
    departments_per_street: int = 5
    members_per_community: int = 60
    residents_per_community: int = 400
    members_per_unit: int = 30
    households_per_building: int = 24
    months: int = 3
    requests: int | None = None

    def __post_init__(self):
        for name in ("streets", "communities_per_street", "grids_per_community", "buildings_per_grid",
                     "staff_per_community", "officers_per_street", "departments_per_street",
                     "members_per_community", "residents_per_community", "members_per_unit", "households_per_building",
                     "months"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.requests is not None and self.requests < 0:
            raise ValueError("requests must not be negative")
        if self.departments_per_street > len(DEPARTMENTS):
            raise ValueError(f"departments_per_street is at most {len(DEPARTMENTS)}")

    @property
    def communities(self) -> int:
        return self.streets * self.communities_per_street

    def total_requests(self, days: float) -> int:
        if self.requests is not None:
            return self.requests
        return round(REQUESTS_PER_STREET_DAY * self.streets * days)

    def scaled(self, factor: float) -> CityShape:
        streets = max(1, round(self.streets * factor))
        requests = None if self.requests is None else round(self.requests * streets / self.streets)
        return replace(self, streets=streets, requests=requests)


STREET_NAMES = [
    "和平", "建国", "朝阳", "安定", "交道口", "东华门", "景山", "北新桥", "东四", "东直门", "天坛", "体育馆",
    "龙潭", "永定门", "西长安", "新街口", "月坛", "展览路", "德胜", "金融街", "什刹海", "大栅栏", "天桥",
    "椿树", "陶然亭", "广安门", "牛街", "白纸坊", "建外", "呼家楼", "三里屯", "左家庄", "酒仙桥", "麦子店",
    "团结湖", "六里屯", "八里庄", "双井", "劲松", "潘家园", "垡头", "望京", "和平里", "小关", "亚运村",
]
COMMUNITY_WORDS = [
    "幸福", "光明", "团结", "和谐", "阳光", "花园", "东里", "西里", "南里", "北里", "新村", "春晖", "翠微",
    "枫林", "桃园", "柳荫", "金台", "银河", "文化", "健康", "民安", "安华", "育新", "青年", "胜利", "友谊",
]
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍鹏辉建国红梅海燕志文斌宇浩然欣怡思远嘉慧晨阳子涵雨桐博文"
DISTRICTS = ["东城区", "西城区", "朝阳区", "海淀区", "丰台区", "石景山区", "通州区", "昌平区", "大兴区", "顺义区"]
ORGANISATIONS = [
    "税务局机关党委", "教育委员会机关党委", "卫生健康委员会机关党委", "人民医院党委", "市场监督管理局党委",
    "住房和城乡建设委员会党委", "交通委员会党委", "文化和旅游局党委", "财政局机关党委", "民政局机关党委",
    "人力资源和社会保障局党委", "生态环境局党委", "城市管理委员会党委", "供电公司党委", "自来水集团党委",
    "第一中学党总支", "实验小学党支部", "中医医院党委", "图书馆党支部", "公交集团党委",
]
DEPARTMENTS = ["城管执法队", "房管所", "派出所", "市政市容所", "供电所", "燃气公司", "自来水公司", "消防救援站"]
CLIENT_NAME = "市民热线对接平台"

# What residents, staff and members write, by top-level category: (problem, result) pairs.
WORDS: dict[str, list[tuple[str, str]]] = {
    "cityscape": [("门口堆着很多杂物和建筑垃圾，没人清理。", "已协调物业和城管清运完毕。"),
                  ("墙上和单元门贴满了小广告。", "已组织清理小广告，并加装宣传栏。"),
                  ("路边有人占道摆摊，影响通行。", "已联合城管劝离，设置提示牌。")],
    "sanitation": [("垃圾桶满了两天没人清运，气味很大。", "已联系环卫公司清运，并加密清运频次。"),
                   ("楼道里堆满纸箱和旧家具，影响通行。", "已与住户沟通，杂物全部清理。"),
                   ("垃圾分类点经常混投，希望有人指导。", "已安排志愿者值守指导分类投放。")],
    "property": [("电梯停在半层不动，老人上下楼困难。", "维保单位已到场修复，更换故障部件。"),
                 ("暖气不热，室温只有十几度。", "已排查管道并放气，室温恢复正常。"),
                 ("小区车位被外来车辆长期占用。", "已协调物业加强门禁管理。")],
    "facilities": [("路灯不亮，晚上走路很黑。", "已报修并更换灯具，路灯恢复照明。"),
                   ("路面塌陷坑洼，雨天积水。", "已协调市政修补路面。"),
                   ("健身器材螺丝松动，有安全隐患。", "已暂停使用并完成维修加固。")],
    "disputes": [("楼上装修晚上十点以后还在施工。", "已上门提醒，双方约定施工时间。"),
                 ("楼上漏水渗到我家天花板。", "已协调双方和物业，维修了防水层。"),
                 ("邻居的狗每天早上叫，影响休息。", "已上门沟通文明养犬。")],
    "safety": [("消防通道被电动车和杂物堵塞。", "已清理通道并设置禁停标识。"),
               ("有人把电动车推进楼道充电。", "已劝导住户到集中充电桩充电。"),
               ("楼下有几户疑似群租，人员进出频繁。", "已联合派出所核查登记。")],
    "services": [("独居老人需要有人帮忙买菜、取药。", "已安排志愿者每周上门帮助。"),
                 ("希望组织义务理发、家电维修等便民活动。", "已组织便民服务日活动。"),
                 ("家里有人失业，想了解就业帮扶政策。", "已讲解政策并推荐岗位。")],
    "housing": [("顶层住户反映雨天屋顶漏水。", "已维修屋面防水。"),
                ("楼道扶手松动，墙皮脱落。", "已维修扶手并修补墙面。"),
                ("外墙瓷砖有脱落迹象，担心砸到人。", "已设置警戒区并完成外墙加固。")],
}
REJECT_REASONS = ["属个人税务咨询，请拨打12366纳税服务热线。", "属商业合同纠纷，建议通过司法途径解决。",
                  "反映内容不属于社区受理范围，已告知相关部门联系方式。"]
RETURN_REASONS = ["属社区职责范围，请社区先行办理。", "已明确处置方案，退回社区落实。"]
SEND_BACK_REASONS = ["照片不清楚，请补充处理后的照片。", "问题没有完全解决，请再处理一次。"]
SUPERVISE_REASONS = {"yellow": "群众多次反映，请加快办理。", "red": "超期未办结，群众反映强烈，限期办结。"}
UNSATISFIED_COMMENTS = ["问题还没有解决。", "处理不及时。", "只是敷衍了事。", ""]
SATISFIED_COMMENTS = ["很及时，谢谢！", "满意。", "", "", ""]
DEPARTMENT_ANSWERS = ["已派人到现场处置。", "已纳入本周工作计划，三日内处理完毕。", "已核查，情况属实，正在处置。"]
